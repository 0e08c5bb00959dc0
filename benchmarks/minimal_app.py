"""The smallest Flask app, served the same way, as a yardstick for what our own code costs."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "ok"
