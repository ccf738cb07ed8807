"""Reads one Iceberg table of the offline store with PyIceberg, for the integration test.

Usage: read_iceberg.py <table dir>
Prints one JSON document: the table's schema (column -> Iceberg type, and whether required),
its partition spec, each data file's partition values, and every row. Values that JSON or
JavaScript numbers cannot carry exactly are written as text: longs as decimal strings,
binary as base64, timestamps as microseconds since the epoch (strings), floats with repr.
"""

import base64
import datetime
import json
import pathlib
import sys

from pyiceberg.table import StaticTable


def current_metadata(table_dir: pathlib.Path) -> str:
    # A Hadoop catalog's table: version-hint.text names the current v<n>.metadata.json.
    version = (table_dir / "metadata" / "version-hint.text").read_text().strip()
    return str(table_dir / "metadata" / f"v{version}.metadata.json")


def plain(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    raise TypeError(f"no plain form for {type(value)}")


def main() -> None:
    table = StaticTable.from_metadata(current_metadata(pathlib.Path(sys.argv[1])))
    schema = table.schema()
    spec = table.spec()
    rows = table.scan().to_arrow().to_pylist()
    files = []
    for task in table.scan().plan_files():
        partition = task.file.partition
        files.append([plain(partition[i]) for i in range(len(partition))])
    json.dump(
        {
            "schema": {
                field.name: {"type": str(field.field_type), "required": field.required}
                for field in schema.fields
            },
            "partition": [
                {"source": schema.find_column_name(f.source_id), "transform": str(f.transform)}
                for f in spec.fields
            ],
            "files": files,
            "rows": [{key: plain(value) for key, value in row.items()} for row in rows],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
