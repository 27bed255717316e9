"""Tableau extracts: a ``.hyper`` file per relation and a ``.tds`` data source beside it.

The rows travel DuckDB → Parquet → Hyper: DuckDB writes a Parquet file and Hyper reads it with its own
``external()`` scan, so no value passes through Python (Tableau's Hyper API, an optional extra:
``uv sync --extra tableau``). The columns are first made to fit Hyper's oldest file format exactly
(``exact_types``); only values that need 128-bit numerics make the file format version 3.

The ``.tds`` is written here (Tableau's document API is unmaintained): readable captions, descriptions
from the models' YAML, dimension or measure, default aggregation, and number formats.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from desktop_app.core.errors import ExportError
from desktop_app.core.handoff.fields import Field

INSTALL_HINT = "Install Tableau's Hyper API with `uv sync --extra tableau` (about 300 MB), or choose another format."
TABLEAU_FORMATS = {"currency": 'c"€"#,##0.00;-"€"#,##0.00', "count": "n#,##0;-#,##0",
                   "number": "n#,##0.00;-#,##0.00", "percent": "p0.0%"}
TDS_TYPES = {"string": 129, "integer": 20, "real": 5, "date": 133, "datetime": 135, "boolean": 11}


def hyper_api():
    """Tableau's Hyper API module, or a one-line error saying how to install it."""
    try:
        import tableauhyperapi
    except ImportError:
        raise ExportError("Tableau extracts (.hyper) need Tableau's Hyper API, which is not installed.",
                          INSTALL_HINT) from None
    return tableauhyperapi


def write_hyper(parquet: Path, target: Path, process) -> None:
    """Load ``parquet`` into a new extract at ``target`` (table "Extract"."Extract"), as Tableau names it."""
    api = hyper_api()
    try:
        with api.Connection(process.endpoint, str(target), api.CreateMode.CREATE_AND_REPLACE) as connection:
            connection.execute_command('CREATE SCHEMA "Extract"')
            connection.execute_command('CREATE TABLE "Extract"."Extract" AS (SELECT * FROM external('
                                       f"{api.escape_string_literal(str(parquet))}, FORMAT => 'parquet'))")
    except api.HyperException as err:
        raise ExportError(f"Tableau's Hyper engine could not write {target.name}: {str(err).splitlines()[0]}") \
            from None


def hyper_process(needs_128_bit: bool):
    """One Hyper server for the whole export (starting one takes about 0.1 s), writing format version 0
    (every Tableau version reads it) unless a column needs 128-bit numerics (version 3)."""
    api = hyper_api()
    parameters = {"log_config": "", "default_database_version": "3" if needs_128_bit else "0"}
    return api.HyperProcess(telemetry=api.Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters=parameters)


def tds_xml(name: str, hyper_file: str, fields: list[Field]) -> str:
    """A Tableau data source that opens ``hyper_file`` (beside it) with captions, roles and formats."""
    connection = f"hyper.{name}"
    records = "".join(
        "<metadata-record class='column'>"
        f"<remote-name>{escape(f.name)}</remote-name><remote-type>{_remote_type(f)}</remote-type>"
        f"<local-name>{escape(_local(f))}</local-name><parent-name>[Extract]</parent-name>"
        f"<remote-alias>{escape(f.name)}</remote-alias><ordinal>{index}</ordinal>"
        f"<local-type>{f.datatype}</local-type><contains-null>true</contains-null></metadata-record>"
        for index, f in enumerate(fields, 1))
    columns = "".join(_column_xml(f) for f in fields)
    return ("<?xml version='1.0' encoding='utf-8' ?>\n"
            f"<datasource formatted-name={quoteattr(name)} inline='true' version='18.1' "
            "xmlns:user='http://www.tableausoftware.com/xml/user'>\n"
            "  <connection class='federated'>\n"
            f"    <named-connections><named-connection caption={quoteattr(name)} name={quoteattr(connection)}>"
            f"<connection authentication='auth-none' class='hyper' dbname={quoteattr(hyper_file)} "
            "default-settings='yes' schema='Extract' sslmode='' tablename='Extract' username='tableau_internal_user' />"
            "</named-connection></named-connections>\n"
            f"    <relation connection={quoteattr(connection)} name='Extract' table='[Extract].[Extract]' "
            "type='table' />\n"
            f"    <metadata-records>{records}</metadata-records>\n"
            "  </connection>\n"
            "  <aliases enabled='yes' />\n"
            f"{columns}"
            "  <layout dim-ordering='alphabetic' measure-ordering='alphabetic' show-structure='true' />\n"
            "</datasource>\n")


def _remote_type(field: Field) -> int:
    """The column's ADO type code, as Tableau records it (131: an exact numeric)."""
    return 131 if field.duck_type.upper().startswith("DECIMAL") else TDS_TYPES[field.datatype]


def _local(field: Field) -> str:
    return "[" + field.name.replace("]", "]]") + "]"


def _column_xml(field: Field) -> str:
    attributes = [f"caption={quoteattr(field.caption)}", f"datatype='{field.datatype}'",
                  f"name={quoteattr(_local(field))}", f"role='{field.role}'", f"type='{field.kind}'"]
    if field.aggregation:
        attributes.append(f"aggregation='{field.aggregation}'")
    if field.number_format:
        attributes.append(f"default-format={quoteattr(TABLEAU_FORMATS[field.number_format])}")
    description = (f"<desc><formatted-text><run>{escape(field.description)}</run></formatted-text></desc>"
                   if field.description else "")
    return f"  <column {' '.join(attributes)}>{description}</column>\n"


def write_tds(path: Path, name: str, hyper_file: str, fields: list[Field]) -> None:
    path.write_text(tds_xml(name, hyper_file, fields), encoding="utf-8")
