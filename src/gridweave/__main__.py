from gridweave.cli import app

app()
