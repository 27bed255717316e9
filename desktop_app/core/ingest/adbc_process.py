"""The ADBC SQLite driver's readers, each in a child process of its own.

The driver bundles its own copy of SQLite. Two SQLite libraries in one process cannot see each
other's connections, and POSIX locks belong to the process, not to the library: a connection of
one library sees the other's locks as its own. On a WAL file that is fatal — opening the first
connection of one library finds no other "process" holding the shared memory, so it resets the
``-shm`` file the other has mapped (SIGBUS, seen in CI) — and on any file, closing one library's
descriptor drops the locks the other holds. Python's ``sqlite3`` (the snapshot, discovery,
reconciliation) therefore keeps this process, and every driver connection lives in a spawned
reader process, where the operating system keeps the two apart as it does for any two programs.

A result comes back in one shared-memory block: the child copies each Arrow buffer of the
driver's batches into it (one ``memcpy`` each) and sends their places; the parent builds arrays
over the mapped block itself, so DuckDB scans the child's bytes with no copy or decoding in this
process (an Arrow IPC stream cost an encode and a decode per batch, ~15 % of the read). Only the
schema travels as IPC, a few hundred bytes. The parent's mapping lives as long as any array over
it (``_Span``); when it closes, the block's name goes back to the child with the next query, and the
child writes that block again instead of a new one (a fresh block's pages must be allocated, zeroed
and faulted in: 63 ms per 43 MB against 12 ms; on a whole load the gain was within the noise).
Reader processes are kept for reuse (spawning one costs a few hundred milliseconds), at most as many
as were ever in use at once.
"""

from __future__ import annotations

import atexit
import collections
import io
import multiprocessing
import threading
import weakref
from multiprocessing.shared_memory import SharedMemory

from nanoarrow import c_array_from_buffers
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
        """(schema, batches) of a query's whole result, as arrays over the child's shared memory.
        ``stop`` is not asked: the child reads one range, which is one batch, and a cancel is seen
        before the next."""
        worker = self._worker
        name, schema_ipc, layouts = worker.call("query", sql, batch_rows, worker.returned_blocks())
        schema = c_array_stream(InputStream.from_readable(io.BytesIO(schema_ipc))).get_schema()
        block = None  # no buffer holds a byte
        if name:
            worker.names.add(name)
            block = SharedMemory(name, track=False)
            # the last array over the block gone, the child may write it again
            weakref.finalize(block, worker.released.append, name)
        return schema, [_rebuild(schema, layout, block) for layout in layouts]

    def close(self) -> None:
        if self._worker is None:
            return
        worker, self._worker = self._worker, None
        try:
            worker.call("close")
        except ArrowReadError:
            worker.stop()
            return
        worker.names.clear()  # the child has dropped every block
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
        # names of blocks no array of this process maps any longer: appended by finalizers, on any
        # thread and at any moment, hence a deque (its append and popleft are atomic)
        self.released: collections.deque[str] = collections.deque()
        self.names: set[str] = set()  # the child's blocks since it last dropped them all

    def returned_blocks(self) -> list[str]:
        names = []
        while self.released:
            names.append(self.released.popleft())
        return names

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
        for name in self.names:  # a child killed (out of memory, say) leaves its blocks' names behind
            try:
                SharedMemory(name, track=False).unlink()
            except FileNotFoundError:
                pass
        self.names.clear()


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
    blocks = _Blocks()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            break
        try:
            if message[0] == "open":
                reader = ArrowReader(message[1])
                connection.send(("ok", None))
            elif message[0] == "query":
                blocks.returned(message[3])
                schema, batches = reader.query(message[1], message[2])
                block, layouts = _pack(batches, blocks)
                batches.clear()  # the driver's memory goes now: the block holds a copy
                connection.send(("ok", (block.name if block else None, _schema_ipc(schema), layouts)))
            elif message[0] == "close":
                if reader is not None:
                    reader.close()
                reader = None
                blocks.drop_all()  # an idle reader holds no memory: arrays still out keep their mappings
                connection.send(("ok", None))
        except ArrowReadError as error:
            connection.send(("error", str(error)))
        except Exception as error:  # noqa: BLE001 - anything else is the parent's error too, as text
            connection.send(("error", f"{type(error).__name__}: {error}"))
    blocks.drop_all()
    if reader is not None:
        reader.close()


class _Blocks:
    """A reader process's shared-memory blocks: lent (the parent may map them) or free to write again."""

    KEEP = 2  # free blocks kept: the parent holds one result while the next is read, rarely more
    ROUND = 1 << 20  # new blocks are a MiB-multiple and an eighth larger than asked: ranges vary a little

    def __init__(self) -> None:
        self.lent: dict[str, SharedMemory] = {}
        self.free: list[SharedMemory] = []

    def returned(self, names: list[str]) -> None:
        """The parent no longer maps these (names of blocks dropped since are ignored)."""
        for name in names:
            if (block := self.lent.pop(name, None)) is not None:
                self.free.append(block)
        self.free.sort(key=lambda block: block.size)
        while len(self.free) > self.KEEP:
            _free(self.free.pop(0))

    def take(self, size: int) -> SharedMemory:
        fitting = [block for block in self.free if block.size >= size]
        if fitting:
            block = fitting[0]
            self.free.remove(block)
        else:
            if self.free:  # too small for what comes now: the smallest goes
                _free(self.free.pop(0))
            wanted = -(-(size + size // 8) // self.ROUND) * self.ROUND
            block = SharedMemory(create=True, size=wanted, track=False)
        self.lent[block.name] = block
        return block

    def drop_all(self) -> None:
        for block in [*self.lent.values(), *self.free]:
            _free(block)
        self.lent, self.free = {}, []


def _free(block: SharedMemory) -> None:
    block.close()
    block.unlink()  # POSIX: the name goes now; the parent's mapping, if any, stays valid until closed


ALIGNMENT = 64  # Arrow's recommended buffer alignment (DuckDB reads values in place)


def _pack(batches: list[CArray], blocks: _Blocks) -> tuple[SharedMemory | None, list[tuple]]:
    """Every buffer of ``batches`` copied into one block of ``blocks``, and each batch's layout:
    (length, offset, null_count, [(start, size) or None per buffer], [children's layouts])."""
    views = [batch.view() for batch in batches]
    spans: list[tuple[int, memoryview]] = []
    end = 0

    def layout(view) -> tuple:
        nonlocal end
        if view.dictionary is not None:
            raise ArrowReadError("the driver returned a dictionary-encoded column")
        places = []
        for i in range(view.n_buffers):
            data = memoryview(view.buffer(i)).cast("B")
            if data.nbytes == 0:
                places.append(None)
                continue
            start = -(-end // ALIGNMENT) * ALIGNMENT
            spans.append((start, data))
            places.append((start, data.nbytes))
            end = start + data.nbytes
        return view.length, view.offset, view.null_count, places, [layout(child) for child in view.children]

    layouts = [layout(view) for view in views]
    if not spans:
        return None, layouts
    block = blocks.take(end)
    for start, data in spans:
        block.buf[start:start + data.nbytes] = data
    return block, layouts


def _schema_ipc(schema) -> bytes:
    """The schema alone as an Arrow IPC stream (a stream of no batches)."""
    buffer = io.BytesIO()
    with StreamWriter.from_writable(buffer) as writer:
        writer.write_stream(batches_stream(schema, []))
    return buffer.getvalue()


def _rebuild(schema, layout: tuple, block: SharedMemory | None) -> CArray:
    """An array over ``block`` as ``_pack`` laid it out: no copy of the values."""
    length, offset, null_count, places, children = layout
    buffers = [None if place is None else _Span(block, *place) for place in places]
    built = [_rebuild(schema.child(i), child, block) for i, child in enumerate(children)]
    # nanoarrow validates a leaf's buffers against its length; a parent is left to its children
    level = "none" if children else "default"
    return c_array_from_buffers(schema, length, buffers, null_count, offset, built, validation_level=level)


class _Span:
    """Bytes of a mapped block, through the buffer protocol. An array over them holds this object,
    which holds the block: the mapping closes when the last array over it goes, never before."""

    def __init__(self, block: SharedMemory, start: int, size: int) -> None:
        self.block, self.start, self.size = block, start, size

    def __buffer__(self, flags: int) -> memoryview:
        return self.block.buf[self.start:self.start + self.size]
