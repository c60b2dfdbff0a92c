"""apiclient: build requests for our internal HTTP APIs (transport is pluggable)."""

from .client import Client
from .request import PreparedRequest, RequestBuilder
from .retry import backoff_delays

__all__ = ["Client", "PreparedRequest", "RequestBuilder", "backoff_delays"]
