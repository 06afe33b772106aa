"""`qrec serve`: the web portal on this workspace, with gunicorn (a production WSGI server)."""

from __future__ import annotations

import click

from .app import cli

# Requests each worker process serves at once. A search is Python from end to end, so the
# threads of one process share one core: more of them do not answer more searches, they
# stretch every answer (eight threads: 20 users' p95 about 400 ms, four: about 280 ms,
# bench/portal.py), while a few still overlap the waits on a networked catalog and store.
THREADS = 4


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址 / the address to listen on (0.0.0.0: every interface)")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="端口 / the port")
@click.option("--threads", default=THREADS, show_default=True, type=click.IntRange(1, 64),
              help="每个进程同时处理的请求数 / requests served at once by each worker process")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="工作进程数（默认每个 CPU 一个，最多 8 个）/ worker processes (default: one "
                   "per CPU, at most 8)")
@click.option("--behind-https-proxy", "https_proxy", is_flag=True,
              help="只经 HTTPS 反向代理访问：Cookie 仅限 HTTPS，信任代理的 X-Forwarded-* / "
                   "reached only through one HTTPS reverse proxy: Secure cookies, HSTS, the "
                   "proxy's X-Forwarded-* headers believed")
@click.pass_context
def serve(ctx, host, port, threads, workers, https_proxy):
    """Serve the web portal: search, read, download, fill in and sign off in a browser. Users
    log in with their qrecords password; stop it with Ctrl+C."""
    from ..settings import find_root
    from ..web.server import make_server

    root = find_root(ctx.obj["workspace"])
    server = make_server(root, host, port, threads, workers, https_proxy)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(f"门户 Portal of {root}: http://{shown}:{port}/  (Ctrl+C 停止 stops it)")
    if https_proxy:
        click.echo("经 HTTPS 反向代理提供：Cookie 仅限 HTTPS / behind an HTTPS proxy: cookies "
                   "are sent over HTTPS only")
    elif host not in ("127.0.0.1", "::1", "localhost"):
        click.echo("警告：未加密；供其他机器使用前请经 HTTPS 反向代理提供，并加 --behind-https-proxy "
                   "启动 / Warning: served without TLS; before other machines use it, put it "
                   "behind an HTTPS reverse proxy and start it with --behind-https-proxy",
                   err=True)
    try:
        server.run()  # returns once stopped (Ctrl+C or SIGTERM)
        click.echo("已停止 Stopped")
    except KeyboardInterrupt:  # before the server took over the signals
        click.echo("已停止 Stopped")
    finally:
        server.close()
