"""The bundled demo news sites and the loopback HTTP server that serves them."""
from newscrawl.demo.server import DemoServer, Page, RequestRecord

__all__ = ["DemoServer", "Page", "RequestRecord"]
