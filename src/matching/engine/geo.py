"""Where postcode districts are: the shipped ONS centroid table (see matching/data/README.md)."""

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

OUTCODES = Path(__file__).resolve().parents[1] / "data" / "outcodes.csv"


@lru_cache
def centroids() -> dict[str, tuple[float, float]]:
    """Outcode -> (easting, northing) in metres on the British National Grid."""
    with OUTCODES.open(newline="") as file:
        return {row["outcode"]: (float(row["easting"]), float(row["northing"])) for row in csv.DictReader(file)}


def outcodes_of(authority_prefix: str) -> dict[str, int]:
    """Districts whose main local authority code starts with the prefix (E09: London, E: England), with
    how many postcodes each has (a rough measure of how many people live there)."""
    with OUTCODES.open(newline="") as file:
        return {row["outcode"]: int(row["postcodes"]) for row in csv.DictReader(file)
                if row["local_authority"].startswith(authority_prefix)}


def locate(outcodes: list[str | None]) -> np.ndarray:
    """An (n, 2) array of kilometre coordinates; NaN where the district is missing or unknown."""
    table = centroids()
    nowhere = (np.nan, np.nan)
    metres = np.array([table.get((code or "").upper(), nowhere) for code in outcodes], dtype=np.float64)
    return np.asfortranarray(metres.reshape(-1, 2) / 1000)  # columns contiguous: x and y are gathered apart


def distance_km(a: str, b: str) -> float | None:
    (ax, ay), (bx, by) = locate([a, b])
    distance = float(np.hypot(ax - bx, ay - by))
    return None if np.isnan(distance) else distance
