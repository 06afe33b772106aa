"""Databases in the test cluster, made as a company's DBA and owner would (README: deployment)."""

from __future__ import annotations

import psycopg

from qrecords.catalog.postgres import setup_database

OWNER, APP = "qrec_owner", "qrec_app"


def new_database(server, name: str, setup: bool = True) -> str:
    """A new database `name` owned by the owner role, set up with `qrec db setup` when
    `setup`; returns the application role's URL."""
    with psycopg.connect(server.superuser_url, autocommit=True) as db:
        for role, options in ((OWNER, "LOGIN CREATEROLE"), (APP, "LOGIN")):
            if not db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                db.execute(f"CREATE ROLE {role} {options}")
        db.execute(f"CREATE DATABASE {name} OWNER {OWNER}")
    if setup:
        setup_database(server.url(name, OWNER), APP)
    return server.url(name, APP)
