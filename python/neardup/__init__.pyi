from os import PathLike
from typing import Any, Iterable, List, Optional, Sequence, Tuple, TypedDict, Union, overload

INDEX_FORMAT_VERSION: int

class Passage(TypedDict):
    doc: int
    start: int
    end: int
    words: int
    source_doc: int
    source_start: int
    source_end: int

class Index:
    """An incremental near-duplicate index.

    Same normalization, shingles, sketch, LSH and verification as ``dedup``.
    Safe to share between threads; every call releases the GIL.
    """

    def __init__(
        self,
        threshold: float = 0.8,
        ngram: int = 5,
        num_perm: int = 128,
        *,
        char_ngram: Optional[int] = None,
        seed: int = 0,
        sketch: str = "oph",
        verify: str = "estimate",
        bands: Optional[int] = None,
        rows: Optional[int] = None,
        compact: bool = False,
        threads: Optional[int] = None,
    ) -> None:
        """Raises ValueError for parameters out of range."""
    def insert(self, id: str, text: str) -> Optional[Tuple[str, float]]:
        """Add a page: None when new, else (earlier_id, similarity) of the most
        similar earlier page. Raises ValueError if ``id`` is already indexed."""
    def insert_many(self, pages: Iterable[Tuple[str, str]]) -> List[Optional[Tuple[str, float]]]:
        """Add many (id, text) pages, sketched in parallel and added in order."""
    def query(self, text: str) -> List[Tuple[str, float]]:
        """Every indexed page at or above the threshold, (id, similarity), best first."""
    def save(self, path: Union[str, PathLike[str]]) -> None:
        """Write the index atomically. Raises OSError."""
    @staticmethod
    def load(path: Union[str, PathLike[str]], *, threads: Optional[int] = None) -> "Index":
        """Open a saved index. Raises OSError for a missing, damaged or newer-format file."""
    @property
    def threshold(self) -> float: ...
    @property
    def compact(self) -> bool: ...
    @property
    def heap_bytes(self) -> int: ...
    def __contains__(self, id: str) -> bool: ...
    def __len__(self) -> int: ...

class BadRecordsWarning(UserWarning): ...

@overload
def dedup(
    texts: Sequence[str],
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    *,
    column: None = None,
    char_ngram: Optional[int] = None,
    seed: int = 0,
    sketch: str = "oph",
    verify: str = "estimate",
    bands: Optional[int] = None,
    rows: Optional[int] = None,
    threads: Optional[int] = None,
    cluster: str = "star",
    keep: str = "first",
) -> List[int]:
    """One label per text: the position of its cluster's representative."""

@overload
def dedup(
    texts: Any,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    *,
    column: str,
    char_ngram: Optional[int] = None,
    seed: int = 0,
    sketch: str = "oph",
    verify: str = "estimate",
    bands: Optional[int] = None,
    rows: Optional[int] = None,
    threads: Optional[int] = None,
    cluster: str = "star",
    keep: str = "first",
) -> Any:
    """Arrow data: a pyarrow Table of ``cluster`` and ``similarity``, one row per input row."""

def passages(
    texts: Any,
    *,
    column: Optional[str] = None,
    against: Optional[Any] = None,
    against_column: Optional[str] = None,
    min_words: int = 8,
    within: bool = False,
    threads: Optional[int] = None,
) -> Any:
    """Repeated spans (character offsets) with their earlier occurrence: a list of
    dicts, or a pyarrow Table for Arrow data."""
