"""A loopback TCP relay that cuts each upstream answer after a number of bytes: real vLLM bytes, cut the way
a crashed or unreachable vLLM cuts them, for the "cut before its terminal event" cases."""

import socket
import threading


class CuttingRelay:
    """Listens on a free loopback port; each connection is relayed to `upstream` (host, port) until the
    answer has sent `cut_after` bytes, then both sides are closed."""

    def __init__(self, upstream: tuple[str, int], cut_after: int):
        self.upstream = upstream
        self.cut_after = cut_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.cuts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket):
        try:
            server = socket.create_connection(self.upstream, timeout=60)
        except OSError:
            client.close()
            return
        client.settimeout(60)

        def upstream_direction():
            try:
                while data := client.recv(65536):
                    server.sendall(data)
            except OSError:
                pass

        threading.Thread(target=upstream_direction, daemon=True).start()
        sent = 0
        try:
            while sent < self.cut_after and (data := server.recv(65536)):
                data = data[: self.cut_after - sent]
                client.sendall(data)
                sent += len(data)
            if sent >= self.cut_after:
                self.cuts += 1
        except OSError:
            pass
        finally:
            for s in (server, client):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=2)
