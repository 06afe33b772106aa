"""`qrec db setup`: the shared catalog's schema, roles and grants (run once by its owner)."""

from __future__ import annotations

import click

from .app import cli, json_option, open_workspace, print_json, progress_bar


@cli.group("db")
def db_group():
    """共享目录库 / the shared PostgreSQL catalog."""


@db_group.command("setup")
@click.argument("url", metavar="POSTGRESQL_URL")
@click.option("--app-role", default="qrec_app", show_default=True,
              help="应用连接的角色 / the role qrec connects as (made without a password if "
                   "missing)")
@json_option
def db_setup(url, app_role, as_json):
    """Make the catalog's tables, triggers, disposal function and grants, connected as the
    database's owner (password from PGPASSWORD or PGPASSFILE)."""
    from ..catalog.postgres import safe_url, setup_database

    setup_database(url, app_role)
    result = {"catalog": safe_url(url), "app_role": app_role}
    if as_json:
        print_json(result)
    else:
        click.echo(f"目录库已建立 / catalog set up: {result['catalog']}\n"
                   f"应用角色     / application role: {app_role}")


@cli.command("migrate")
@click.option("--catalog", "catalog_url", required=True,
              help="目标目录库 / the shared catalog: postgresql://user@host:port/db")
@click.option("--files", "files_url", required=True,
              help="目标文件库 / the shared file store: s3://bucket/prefix or file:<folder>")
@click.option("--s3-endpoint", help="S3 端点 / S3 endpoint URL (omit for AWS)")
@json_option
@click.pass_context
def migrate_command(ctx, catalog_url, files_url, s3_endpoint, as_json):
    """Copy this workspace into an empty shared archive, verified before and after."""
    from ..api.migrate import migrate

    ws = open_workspace(ctx)
    with progress_bar("迁移 migrate") as progress:
        result = migrate(ws, catalog_url, files_url, s3_endpoint, progress)
    if as_json:
        print_json(result)
        return
    click.echo(f"已迁移 / migrated: {result['records']} records, {result['versions']} "
               f"versions, {result['files_copied']} files, {result['events']} events, "
               f"{result['tombstones']} tombstones; chain head {result['chain_head']}")
