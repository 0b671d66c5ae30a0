"""neardup: find text that was said twice.

- ``Index``: an incremental near-duplicate index for crawlers (insert a page,
  learn whether it near-duplicates one seen before; save and load it).
- ``dedup(texts)``: cluster a list of texts; one label per text.
- ``passages(texts)``: spans repeated inside or across texts.

The work is done by the Rust core, with the GIL released.
"""

from neardup._neardup import INDEX_FORMAT_VERSION, Index, dedup, passages

__all__ = ["INDEX_FORMAT_VERSION", "Index", "dedup", "passages"]
