"""Login Feed: watch your users sign up and log in, live."""

from importlib.metadata import PackageNotFoundError, version

APP_NAME = "login-feed"

try:
    __version__ = version("login-feed")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"
