"""Secrets never leave: a password in any part of a URL is redacted wherever a URL is shown or stored."""

from __future__ import annotations

import sqlalchemy as sa

from desktop_app.cli import main
from desktop_app.core.excel.pipeline import provenance_of
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import describe_db_error, open_source, parse_source, redacted_url

SECRETS = ("s3cr3t", "k3y-pass", "t0ken", "pw-in-userinfo")


def test_every_secret_bearing_part_of_a_url_is_redacted():
    url = ("postgresql+psycopg://me:pw-in-userinfo@db.example:5432/shop?password=s3cr3t&sslpassword=k3y-pass"
           "&application_name=studio&access_token=t0ken&sslmode=require")
    label = parse_source(url).label
    assert not any(secret in label for secret in SECRETS), label
    assert "application_name=studio" in label and "sslmode=require" in label and "db.example:5432/shop" in label
    assert redacted_url(sa.make_url("mysql+pymysql://u@h/d?passwd=s3cr3t")).count("s3cr3t") == 0
    spec = parse_source(url)
    error = describe_db_error(RuntimeError("connection to db.example failed: password s3cr3t rejected "
                                           "(key k3y-pass, token t0ken, userinfo pw-in-userinfo)"), spec)
    assert not any(secret in str(error) for secret in SECRETS), str(error)


def test_a_query_password_is_never_printed_stored_or_written_into_a_report(postgres_url, tmp_path, capsys):
    url = f"{postgres_url}?password=s3cr3t"  # libpq accepts it; the test server trusts every password
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS secrets_probe")
        connection.exec_driver_sql("CREATE TABLE secrets_probe (id int primary key)")
    warehouse = tmp_path / "w.duckdb"
    with open_source(url) as source, Warehouse(warehouse) as wh:
        report = run_ingest(source, wh, tables=["secrets_probe"])
        assert report.ok and "s3cr3t" not in report.source
        stored = wh.cursor().execute("select source from _studio.runs").fetchall()
        assert stored and "s3cr3t" not in str(stored)
        assert "s3cr3t" not in str(provenance_of(wh))
    for argv in (["inspect", "--oltp", url], ["ingest", "--oltp", url, "--warehouse", str(warehouse),
                                                "--tables", "secrets_probe"],
                 ["inspect", "--oltp", "postgresql+psycopg://postgres@127.0.0.1:1/postgres?password=s3cr3t"]):
        main(argv)
        out = capsys.readouterr()
        assert "s3cr3t" not in out.out + out.err, argv
