"""A few connections per asyncio event loop, for hot paths on the loop.

An asyncio connection belongs to the loop that opened it, so each running
loop gets its own set. A connection is taken for one unit of work and put
back; one that is broken or was interrupted (cancelled mid-call) is closed
instead. Used by chat's send path (chat/asyncdb.py, core/cache.py), where a
library's general pool cost more CPU than the commands (docs/chat.md).
"""

import asyncio
import contextlib


class LoopPool:
    def __init__(self, *, connect, reusable, discard, size: int):
        """`connect()`: a coroutine giving a new connection; `reusable(conn)`:
        whether it can serve the next caller; `discard(conn)`: close it
        without waiting (no round trip, no event loop needed)."""
        self._connect = connect
        self._reusable = reusable
        self._discard = discard
        self._size = size
        self._loops = {}

    @contextlib.asynccontextmanager
    async def connection(self, *, fresh: bool = False):
        """A connection of the running loop (`async with`); `fresh`: drop
        the idle ones first (after one was found broken, so may they be)."""
        state = self._state()
        async with state["slots"]:
            idle = state["idle"]
            if fresh:
                while idle:
                    self._discard(idle.pop())
            conn = idle.pop() if idle else await self._connect()
            reusable = False
            try:
                yield conn
                reusable = True
            finally:
                if reusable and self._reusable(conn):
                    idle.append(conn)
                else:
                    self._discard(conn)

    def _state(self) -> dict:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            for ended in [old for old in self._loops if old.is_closed()]:
                self._close_loop(ended)
            state = self._loops[loop] = {
                "idle": [],
                "slots": asyncio.Semaphore(self._size),
            }
        return state

    def _close_loop(self, loop) -> None:
        state = self._loops.pop(loop, None)
        while state and state["idle"]:
            self._discard(state["idle"].pop())

    def close(self) -> None:
        """Close every idle connection of every loop (tests, whose loops end)."""
        for loop in list(self._loops):
            self._close_loop(loop)
