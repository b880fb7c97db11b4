"""The baseline: a bare Flask app returning a small JSON dict (served by gunicorn like the service)."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> dict:
    return {"hello": "world", "count": 12345, "goal": 25000}
