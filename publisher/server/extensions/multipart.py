"""``PUT /upload/<upload_id>/<part_number>``: one part of a multipart upload (ftrack's protocol).

The signed URL is the permission (no API headers). The body is written in place at the part's
offset by a worker thread while the event loop reads the next piece, fsynced, and answered
``200`` with the part's MD5 as its ``ETag``. The protocol itself lives in
:mod:`publisher.server.multipart`; this module is only its HTTP side.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from publisher.server.errors import ServerError

if TYPE_CHECKING:
    from publisher.server.app import ServerContext

#: Bytes read from the connection per write.
BLOCK = 1024 * 1024


def routes(app: web.Application, context: "ServerContext") -> None:
    """Add the part route to ``app``."""

    async def put_part(request: web.Request) -> web.Response:
        uploads = context.api.uploads
        upload_id, part = request.match_info["upload"], request.match_info["part"]
        query = dict(request.query)

        def begin():
            return uploads.begin_part(context.storage.connection(), upload_id, part, query, request.content_length)

        _upload, number, writer = await context.run(begin)
        pacer = context.wan.pacer() if context.wan is not None else None
        loop = asyncio.get_running_loop()
        writing: asyncio.Future | None = None
        read = 0
        try:
            while read < writer.length:
                want = min(BLOCK, writer.length - read)
                try:
                    async with asyncio.timeout(context.body_timeout):
                        block = await _read_up_to(request, want)
                except OSError as exc:
                    reason = "it stalled" if isinstance(exc, TimeoutError) else "the connection broke"
                    raise ServerError(f"Part {number} stopped before it all arrived ({reason}); it was not stored. "
                                      "Send it again.", status=400) from None
                if not block:
                    break
                read += len(block)
                if pacer is not None:
                    await pacer.take(len(block))
                if writing is not None:
                    await writing
                writing = loop.run_in_executor(context.executor, writer.write, block)
            if writing is not None:
                await writing
                writing = None
            e_tag = await context.run(writer.finish)
        except BaseException:
            if writing is not None:
                await asyncio.wait([writing])
            writer.abort()
            raise

        def record() -> None:
            uploads.record_part(context.storage.connection(), upload_id, number, writer.length, e_tag)

        await context.run(record)
        return web.Response(status=200, headers={"ETag": f'"{e_tag}"'})

    app.router.add_put("/upload/{upload}/{part}", put_part)


async def _read_up_to(request: web.Request, size: int) -> bytes:
    """``size`` bytes of the body, fewer only at its end."""
    try:
        return await request.content.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        return exc.partial
