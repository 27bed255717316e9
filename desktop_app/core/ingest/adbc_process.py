"""The ADBC SQLite driver's readers, each in a child process of its own.

The driver bundles its own copy of SQLite. Two SQLite libraries in one process cannot see each
other's connections, and POSIX locks belong to the process, not to the library: a connection of
one library sees the other's locks as its own. On a WAL file that is fatal — opening the first
connection of one library finds no other "process" holding the shared memory, so it resets the
``-shm`` file the other has mapped (SIGBUS, seen in CI) — and on any file, closing one library's
descriptor drops the locks the other holds. Python's ``sqlite3`` (the snapshot, discovery,
reconciliation) therefore keeps this process, and every driver connection lives in a spawned
reader process, where the operating system keeps the two apart as it does for any two programs.

A batch comes back as one Arrow IPC stream (nanoarrow writes and reads it) in a shared-memory
block the child fills and the parent decodes from: a copy of the data each way, no Python object
per value (a pipe would cost a system call per 64 kB on top). Reader processes are kept for reuse
(spawning one costs a few hundred milliseconds), at most as many as were ever in use at once.
"""

from __future__ import annotations

import atexit
import io
import multiprocessing
import threading
from multiprocessing.shared_memory import SharedMemory

from nanoarrow._array import CArray
from nanoarrow.c_array_stream import c_array_stream
from nanoarrow.ipc import InputStream, StreamWriter

from desktop_app.core.ingest.adbc_sqlite import ArrowReader, ArrowReadError, batches_stream, library_path

__all__ = ["ArrowReadError", "ProcessReader", "available", "reserve_readers"]


class ProcessReader:
    """``adbc_sqlite.ArrowReader``'s interface, served by a reader process; one thread at a time."""

    def __init__(self, uri: str) -> None:
        self._worker = _POOL.take()
        try:
            self._worker.call("open", uri)
        except BaseException:
            _POOL.give_back(self._worker)
            raise

    def query(self, sql: str, batch_rows: int, stop=lambda: False) -> tuple[object, list[CArray]]:
        """(schema, batches) of a query's whole result. ``stop`` is not asked: the child reads one
        range, which is one batch, and a cancel is seen before the next."""
        name, size = self._worker.call("query", sql, batch_rows)
        block = SharedMemory(name, track=False)
        view = block.buf[:size]
        try:
            stream = c_array_stream(InputStream.from_readable(_MemoryReader(view)))
            schema = stream.get_schema()
            return schema, list(stream)  # decoded into arrays of their own: the block can go
        finally:
            view.release()
            block.close()

    def close(self) -> None:
        if self._worker is None:
            return
        worker, self._worker = self._worker, None
        try:
            worker.call("close")
        except ArrowReadError:
            worker.stop()
            return
        _POOL.give_back(worker)


def available() -> bool:
    """Whether the driver's library is installed. Only reader processes load it: this process never
    holds a second SQLite library, not even an idle one."""
    return library_path() is not None


def reserve_readers(count: int) -> None:
    """Have ``count`` reader processes ready (spawning them side by side) before they are asked for."""
    if available():
        _POOL.reserve(count)


class _Worker:
    """One reader process and the parent's end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # not fork: the parent has threads (and Qt)
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_serve, args=(child_end,), daemon=True, name="oltp-olap sqlite reader")
        self.process.start()
        child_end.close()

    def call(self, *message):
        try:
            self.connection.send(message)
            kind, payload = self.connection.recv()
        except (EOFError, OSError):  # raised below, outside: the failed send's frames (and buffer) go now
            kind = None
        if kind is None:
            self.stop()
            raise ArrowReadError(f"the SQLite reader process stopped (exit code {self.process.exitcode})")
        if kind == "error":
            raise ArrowReadError(payload)
        return payload

    def alive(self) -> bool:
        return self.process.is_alive() and not self.connection.closed

    def stop(self) -> None:
        self.connection.close()
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class _Pool:
    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
        return _Worker()

    def reserve(self, count: int) -> None:
        """Start reader processes until ``count`` are idle, all at once (each start is mostly waiting)."""
        with self._lock:
            self._idle = [w for w in self._idle if w.alive()]
            self._idle += [_Worker() for _ in range(count - len(self._idle))]

    def give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def stop_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


_POOL = _Pool()
atexit.register(_POOL.stop_all)


def _serve(connection) -> None:
    """The reader process: open a reader, answer its queries, close it; until the parent hangs up."""
    reader: ArrowReader | None = None
    block: SharedMemory | None = None
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            break
        if block is not None:  # the parent has decoded the last result (it asks again only then)
            _free(block)
            block = None
        try:
            if message[0] == "open":
                reader = ArrowReader(message[1])
                connection.send(("ok", None))
            elif message[0] == "query":
                schema, batches = reader.query(message[1], message[2])
                buffer = io.BytesIO()
                with StreamWriter.from_writable(buffer) as writer:
                    writer.write_stream(batches_stream(schema, batches))
                batches.clear()
                with buffer.getbuffer() as data:
                    size = len(data)
                    block = SharedMemory(create=True, size=max(size, 1), track=False)
                    block.buf[:size] = data
                connection.send(("ok", (block.name, size)))
            elif message[0] == "close":
                if reader is not None:
                    reader.close()
                reader = None
                connection.send(("ok", None))
        except ArrowReadError as error:
            connection.send(("error", str(error)))
        except Exception as error:  # noqa: BLE001 - anything else is the parent's error too, as text
            connection.send(("error", f"{type(error).__name__}: {error}"))
    if block is not None:
        _free(block)
    if reader is not None:
        reader.close()


def _free(block: SharedMemory) -> None:
    block.close()
    block.unlink()  # POSIX: the name goes now; the parent's mapping, if any, stays valid until closed


class _MemoryReader:
    """``readinto()`` over a memoryview, for nanoarrow's IPC reader (which copies what it reads)."""

    def __init__(self, view: memoryview) -> None:
        self.view, self.at = view, 0

    def readinto(self, target) -> int:
        target = memoryview(target).cast("B")
        count = min(len(target), len(self.view) - self.at)
        target[:count] = self.view[self.at:self.at + count]
        self.at += count
        return count
