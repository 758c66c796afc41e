"""Training corpora as they come: folders, WebDataset tar shards, Parquet and JSONL
manifests.  Each yields :class:`Item` s with an id that is stable across runs."""

from kyodaku.corpus.items import Item, iter_items

__all__ = ["Item", "iter_items"]
