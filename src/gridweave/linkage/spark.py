"""The Spark backend: a Spark session for Splink's SparkAPI, and frames in and out of it.

Needs pyspark (`pip install 'gridweave[spark]'`) and a Java runtime. Splink's similarity jar,
which ships inside the splink package, provides the two string distances Spark SQL lacks
(Jaro–Winkler and Damerau–Levenshtein); both are only ever applied to ASCII columns.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any

import polars as pl

from gridweave.core.errors import GridweaveError
from gridweave.linkage.config import LinkageConfig, Spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession
    from splink.internals.splink_dataframe import SplinkDataFrame

# functions the spark comparisons call that Spark SQL does not have (they come from the jar)
JAR_FUNCTIONS = ("jaro_winkler", "damerau_levenshtein")


class SparkUnavailable(GridweaveError):
    code = "spark_unavailable"


def find_java() -> str | None:
    """The java executable Spark would start: $JAVA_HOME/bin/java, else java on the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("java")


def check_available() -> None:
    """Refuse, saying what to install, when pyspark or a Java runtime is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(
            "the spark backend needs pyspark, which is not installed",
            hint="pip install 'gridweave[spark]', or link with --backend duckdb",
        ) from None
    if find_java() is None:
        raise SparkUnavailable(
            "the spark backend needs a Java runtime (17 or newer) and found none"
            " (neither $JAVA_HOME/bin/java nor java on the PATH)",
            hint="install one (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME;"
            " or link with --backend duckdb",
        )


def spark_session(settings: Spark) -> SparkSession:
    """The running Spark session (spark-submit's, or an earlier one), else a new one.

    A new session loads Splink's similarity jar and logs errors only. A session started
    elsewhere must have loaded the jar itself (spark-submit --jars); it is checked here.
    """
    check_available()
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    session = SparkSession.getActiveSession()
    if session is None:
        log4j = resources.files("gridweave.linkage").joinpath("spark-log4j2.properties")
        builder = SparkSession.builder.appName("gridweave-linkage")
        if settings.master:
            builder = builder.master(settings.master)
        elif not _master_given_elsewhere():
            builder = builder.master("local[*]")
        conf = {
            "spark.jars": similarity_jar_location(),
            "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j}",
            **{
                k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in settings.conf.items()
            },
        }
        for key, value in conf.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    if settings.checkpoint_dir:
        session.sparkContext.setCheckpointDir(settings.checkpoint_dir)
    missing = [f for f in JAR_FUNCTIONS if not session.catalog.functionExists(f)]
    if missing:
        from splink.internals.spark.jar_location import get_scala_udfs

        for name, java_class, return_type in get_scala_udfs():
            try:
                session.udf.registerJavaFunction(name, java_class, return_type)
            except Exception:  # the jar is not on the classpath: reported below
                break
        missing = [f for f in JAR_FUNCTIONS if not session.catalog.functionExists(f)]
    if missing:
        raise SparkUnavailable(
            f"the Spark session lacks {', '.join(missing)}: Splink's similarity jar is not loaded",
            hint=f"start Spark with --jars {similarity_jar_location()}",
        )
    return session


def _master_given_elsewhere() -> bool:
    # spark-submit starts the JVM first (and says where), or passes --master to pyspark
    return "PYSPARK_GATEWAY_PORT" in os.environ or "--master" in os.environ.get(
        "PYSPARK_SUBMIT_ARGS", ""
    )


class SparkBackend:
    """Splink's SparkAPI on a session, with frames from polars and back."""

    dialect = "spark"

    def __init__(self, session: SparkSession, settings: Spark) -> None:
        from splink.backends.spark import SparkAPI

        self.session = session
        # intermediate tables: Parquet under the checkpoint folder on a cluster (breaks long
        # lineages, survives a lost executor); kept in memory when there is none
        method = "parquet" if settings.checkpoint_dir else "persist"
        self.api = SparkAPI(
            spark_session=session, break_lineage_method=method, register_udfs_automatically=False
        )
        self._views: list[str] = []

    def view(self, frame: pl.DataFrame, name: str) -> SparkFrame:
        """`frame` as the temporary view `name`."""
        spark_frame = self.session.createDataFrame(frame.to_arrow())
        spark_frame.createOrReplaceTempView(name)
        self._views.append(name)
        return spark_frame

    def register(self, frame: pl.DataFrame) -> SplinkDataFrame:
        return self.api.register(self.session.createDataFrame(frame.to_arrow()))

    def pairs(self, select_sql: str) -> tuple[SplinkDataFrame, int]:
        """The candidate pairs `select_sql` finds, kept, and their count."""
        pairs = self.session.sql(select_sql).persist()
        return self.api.register(pairs), pairs.count()

    def collect(self, sql: str) -> pl.DataFrame:
        frame = pl.from_arrow(self.session.sql(sql).toArrow())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def close(self) -> None:
        for name in self._views:
            self.session.catalog.dropTempView(name)
        # Splink persists its intermediate tables; a long-lived session must not keep them
        self.session.catalog.clearCache()


@contextmanager
def spark_backend(config: LinkageConfig) -> Iterator[Any]:
    backend = SparkBackend(spark_session(config.spark), config.spark)
    try:
        yield backend
    finally:
        backend.close()
