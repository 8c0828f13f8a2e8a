"""Serve a WSGI app on loopback in a background thread (the sandbox for tests and demos, or the project itself)."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class RunningServer:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_in_thread(wsgi_app, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    server = make_server(host, port, wsgi_app, threaded=True)
    # socketserver polls for shutdown every 0.5 s by default; tests stop many servers, so poll faster.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"wsgi:{server.server_port}", daemon=True)
    thread.start()
    return RunningServer(server, thread)
