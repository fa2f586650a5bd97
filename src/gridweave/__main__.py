from gridweave.cli import run

run()
