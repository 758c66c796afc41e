"""After a scan: the cleared corpus in the input's own format, and the exclusion list.

Only items whose verdict is ``cleared`` go into the cleared corpus; blocked, review and
error items are left out (nothing fails open) and listed in ``exclusions.jsonl`` with
their reason.

==================  ==============================================================
input               cleared output (in ``DIR``)
==================  ==============================================================
``SHARD.tar``       ``DIR/SHARD.tar``: the same samples, every member of each
                    cleared key, in the same order (readable by ``webdataset``)
``M.parquet``       ``DIR/M.parquet``: the cleared rows, same schema
``M.jsonl``         ``DIR/M.jsonl``: the cleared lines, byte for byte
files / folders     ``DIR/cleared-files.txt``: one cleared path per line
==================  ==============================================================
"""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from kyodaku.corpus.items import member_key, row_key


def read_verdicts(results: Path) -> dict[str, str]:
    verdicts: dict[str, str] = {}
    with open(results, encoding="utf-8") as f:
        for text in f:
            if text.strip():
                line = json.loads(text)
                verdicts[line["path"]] = line["verdict"]
    return verdicts


def write_cleared(inputs: Iterable[str | Path], results: Path, out_dir: Path) -> Counter[str]:
    """Write the cleared corpus and ``exclusions.jsonl``; returns counts per output kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    verdicts = read_verdicts(results)
    counts: Counter[str] = Counter()
    with open(out_dir / "exclusions.jsonl", "w", encoding="utf-8") as excl, open(results, encoding="utf-8") as f:
        for text in f:
            if text.strip():
                line = json.loads(text)
                if line["verdict"] != "cleared":
                    excl.write(json.dumps({"id": line["path"], "verdict": line["verdict"],
                                           "reason": line.get("reason")}, ensure_ascii=False) + "\n")
                    counts["excluded"] += 1
    files = None
    for raw in inputs:
        p = Path(raw)
        suffix = p.suffix.lower()
        if p.is_file() and suffix == ".tar":
            counts["samples"] += _cleared_shard(p, verdicts, out_dir / p.name)
        elif p.is_file() and suffix == ".parquet":
            counts["rows"] += _cleared_parquet(p, verdicts, out_dir / p.name)
        elif p.is_file() and suffix == ".jsonl":
            counts["rows"] += _cleared_jsonl(p, verdicts, out_dir / p.name)
        else:
            if files is None:
                files = open(out_dir / "cleared-files.txt", "w", encoding="utf-8")
            prefix = str(p)
            for item_id, verdict in verdicts.items():
                if verdict == "cleared" and "#" not in item_id and (item_id == prefix or item_id.startswith(prefix + "/")):
                    files.write(item_id + "\n")
                    counts["files"] += 1
    if files is not None:
        files.close()
    return counts


def _cleared_shard(shard: Path, verdicts: dict[str, str], dest: Path) -> int:
    kept: set[str] = set()
    with tarfile.open(shard, "r|*") as src, tarfile.open(dest, "w") as dst:
        for member in src:
            if not member.isfile():
                continue
            key, _ext = member_key(member.name)
            if verdicts.get(f"{shard}#{key}") != "cleared":
                continue
            data = src.extractfile(member)
            dst.addfile(member, data)
            kept.add(key)
    return len(kept)


def _cleared_parquet(manifest: Path, verdicts: dict[str, str], dest: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = pq.ParquetFile(manifest)
    n = kept = 0
    with pq.ParquetWriter(dest, src.schema_arrow) as writer:
        for batch in src.iter_batches(batch_size=256):
            rows = batch.to_pylist()
            mask = []
            for row in rows:
                mask.append(verdicts.get(f"{manifest}#{row_key(n, row)}") == "cleared")
                n += 1
            if any(mask):
                writer.write_batch(batch.filter(pa.array(mask)))
                kept += sum(mask)
    return kept


def _cleared_jsonl(manifest: Path, verdicts: dict[str, str], dest: Path) -> int:
    kept = 0
    # lines split as kyodaku.corpus.items.jsonl_items splits them (on b"\n" only), so that
    # rows without a key column get the same row-N keys
    with open(manifest, "rb") as src, open(dest, "wb") as dst:
        for n, raw in enumerate(src):
            try:
                text = raw.decode("utf-8")
                if not text.strip():
                    continue
                row = json.loads(text)
            except ValueError:
                continue  # an unparseable line was an error item: excluded
            if isinstance(row, dict) and verdicts.get(f"{manifest}#{row_key(n, row)}") == "cleared":
                dst.write(raw if raw.endswith(b"\n") else raw + b"\n")
                kept += 1
    return kept
