"""Data sources for privacy measurement, by name or path; nothing downloads.

- `digits` (default): scikit-learn's bundled `load_digits` (noise.data), public task
  "digit > 5", private task "which digit".
- a `.npz` file (loaded with allow_pickle=False): `x` (N, H, W), (N, C, H, W) or (N, D);
  `y_public` int (N,); optional `y_private` int (N,). uint8 images are scaled by 1/255, float
  arrays are taken as given.
- an image folder: one subfolder per public class (sorted names -> labels 0, 1, ...; hidden
  folders and files are ignored). Images are read by matplotlib (PNG natively, JPEG, BMP, GIF,
  TIFF and WebP through Pillow, which matplotlib requires); other files are skipped with a
  warning. Every class folder needs at least one image, and an unreadable image is a DataError
  naming the file. A folder has no private label.

Every source is adapted to the model's input shape: images are resized bilinearly and their
channels replicated (gray -> C) or averaged (C -> gray); a 1-d input shape (D,) receives the
flattened image, zero-padded or truncated to D values (the bag-of-words MLP gets the 64 digit
pixels followed by zeros, which the MI feature reduction drops as constant).
Without a private label, `num_private_classes` is 0 and the adversary figure stays empty.
"""
from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from noise.data import HELDOUT_FRACTION, TEST_FRACTION, Dataset, Split

log = logging.getLogger(__name__)


class DataError(ValueError):
    """A data source that cannot be used; str() is one line naming the file and the rule."""


# ----------------------------------------------------------------------------- adapting
def adapt(x: torch.Tensor, input_shape: tuple[int, ...]) -> torch.Tensor:
    """(N, C, H, W) or (N, D) float -> (N, *input_shape) float32."""
    shape = tuple(int(s) for s in input_shape)
    x = x.float()
    if len(shape) == 1:
        flat = x.reshape(len(x), -1)
        d = shape[0]
        if flat.shape[1] >= d:
            return flat[:, :d].contiguous()
        return F.pad(flat, (0, d - flat.shape[1])).contiguous()
    if len(shape) != 3:
        raise DataError(f"input shape {list(shape)}: expected [C, H, W] or [D]")
    if x.ndim != 4:
        raise DataError(f"the model takes images {list(shape)}; the data holds flat vectors "
                        f"of shape {list(x.shape[1:])}")
    c, h, w = shape
    if tuple(x.shape[2:]) != (h, w):
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    if x.shape[1] != c:
        x = x.mean(1, keepdim=True) if c == 1 else x.mean(1, keepdim=True).repeat(1, c, 1, 1)
    return x.contiguous()


def split_dataset(name: str, x: torch.Tensor, y_public: np.ndarray,
                  y_private: np.ndarray | None, seed: int) -> Dataset:
    """The same fixed split rule as the digits: test 20 %, then a quarter of the rest held out."""
    n = len(y_public)
    pub = torch.from_numpy(y_public.astype(np.int64))
    has_private = y_private is not None
    priv = torch.from_numpy((y_private if has_private else np.zeros(n)).astype(np.int64))
    perm = torch.from_numpy(np.random.default_rng(seed).permutation(n))
    n_test = int(round(TEST_FRACTION * n))
    n_held = int(round(HELDOUT_FRACTION * (n - n_test)))
    parts = perm[n_test + n_held:], perm[n_test:n_test + n_held], perm[:n_test]
    train, held, test = (Split(x[i], pub[i], priv[i]) for i in parts)
    return Dataset(name, train, held, test, num_classes=int(pub.max()) + 1,
                   num_private_classes=int(priv.max()) + 1 if has_private else 0)


# ----------------------------------------------------------------------------- sources
def _digits(ref: str, input_shape: tuple[int, ...], seed: int) -> Dataset:
    from sklearn.datasets import load_digits

    raw = load_digits()
    x = torch.from_numpy(raw.images.astype(np.float32) / 16.0).unsqueeze(1)
    digit = raw.target.astype(np.int64)
    ds = split_dataset("digits", adapt(x, input_shape), (digit > 5).astype(np.int64), digit,
                       seed)
    return ds


# Reading needs this many samples; the privacy figures need more (MIN_TEST_SAMPLES).
MIN_SAMPLES = 20
# The test split must hold enough samples for the k-NN MI estimate and its resampled interval
# (k + 2 = 5 in 80 % subsets) and the adversaries' scores: 10 (a data set of about 50).
MIN_TEST_SAMPLES = 10
# Labels index a classifier's outputs: more classes than this is a mistake in the file (a
# label of 1e9 would ask for a 336 GB output layer).
MAX_CLASSES = 1_000
# Images are size-checked before they are decoded (a 700-byte PNG may claim 40000 x 40000).
MAX_IMAGE_PIXELS = 4096 * 4096


def _labels(path: str, name: str, arr: np.ndarray, n: int) -> np.ndarray:
    if arr.shape != (n,):
        raise DataError(f"{path}: {name!r} has shape {list(arr.shape)}, expected [{n}] "
                        f"(one label per row of 'x')")
    if not np.issubdtype(arr.dtype, np.integer) or (arr.size and arr.min() < 0):
        raise DataError(f"{path}: {name!r} must hold non-negative integer labels, "
                        f"got dtype {arr.dtype}")
    if arr.size and arr.max() >= MAX_CLASSES:
        raise DataError(f"{path}: {name!r} holds label {int(arr.max())}; labels are class "
                        f"numbers 0..{MAX_CLASSES - 1}")
    return arr


def load_npz(path: str, input_shape: tuple[int, ...], seed: int) -> Dataset:
    expected = ("expected arrays 'x' (N,H,W | N,C,H,W | N,D), 'y_public' (N,) and optional "
                "'y_private' (N,)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise DataError(f"{path}: data file not found") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz ({exc}); {expected}") from None
    missing = [k for k in ("x", "y_public") if k not in arrays]
    unknown = sorted(set(arrays) - {"x", "y_public", "y_private"})
    if missing or unknown:
        what = ", ".join([f"missing {k!r}" for k in missing] + [f"unknown {k!r}" for k in unknown])
        raise DataError(f"{path}: {what}; {expected}")
    x = arrays["x"]
    if x.ndim not in (2, 3, 4) or len(x) < MIN_SAMPLES:
        raise DataError(f"{path}: 'x' has shape {list(x.shape)}; {expected} with "
                        f"N >= {MIN_SAMPLES}")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise DataError(f"{path}: 'x' has dtype {x.dtype}, expected uint8 or float")
    n = len(x)
    y_pub = _labels(path, "y_public", arrays["y_public"], n)
    y_priv = _labels(path, "y_private", arrays["y_private"], n) if "y_private" in arrays else None
    if len(np.unique(y_pub)) < 2:
        raise DataError(f"{path}: 'y_public' holds a single class; need at least 2")
    xf = x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0)
    if not np.all(np.isfinite(xf)):
        raise DataError(f"{path}: 'x' holds NaN or infinite values")
    t = torch.from_numpy(xf)
    t = t.unsqueeze(1) if x.ndim == 3 else t
    try:
        adapted = adapt(t, input_shape)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    return split_dataset(Path(path).name, adapted, y_pub, y_priv, seed)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _visible(folder: Path) -> list[Path]:
    # .ipynb_checkpoints, .DS_Store and the like are neither classes nor images
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _read_image(f: Path) -> np.ndarray:
    """(H, W, C) floats in [0, 1]: PNG comes as floats, other formats as integers."""
    import matplotlib.image as mpimg
    from PIL import Image

    try:
        with Image.open(f) as probe:        # reads the header only
            width, height = probe.size
        if width * height > MAX_IMAGE_PIXELS:
            raise DataError(f"{f}: {width} x {height} pixels; images are at most "
                            f"{MAX_IMAGE_PIXELS:,} pixels (they are scaled to the input size)")
        img = np.asarray(mpimg.imread(f))
    except Image.DecompressionBombError:
        raise DataError(f"{f}: claims more pixels than Pillow will decode; images are at most "
                        f"{MAX_IMAGE_PIXELS:,} pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:   # Pillow's decoding errors
        raise DataError(f"{f}: not a readable image ({exc})") from None
    if np.issubdtype(img.dtype, np.integer):
        img = img / np.iinfo(img.dtype).max
    img = img.astype(np.float32)
    return img[..., None] if img.ndim == 2 else img[..., :3]


def load_image_folder(path: str, input_shape: tuple[int, ...], seed: int) -> Dataset:
    classes = [d.name for d in _visible(Path(path)) if d.is_dir()]
    if len(classes) < 2:
        raise DataError(f"{path}: an image folder needs one subfolder per public class "
                        f"(at least 2), found {len(classes)}")
    size = tuple(input_shape[1:]) if len(input_shape) == 3 else (28, 28)
    images, labels, skipped, empty = [], [], 0, []
    for label, cls in enumerate(classes):
        count = len(labels)
        for f in _visible(Path(path) / cls):
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                skipped += 1
                continue
            img = _read_image(f)
            t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).unsqueeze(0)
            images.append(adapt(t.mean(1, keepdim=True) if t.shape[1] != 3 else t,
                                (t.shape[1] if t.shape[1] == 3 else 1, *size)))
            labels.append(label)
        if len(labels) == count:
            empty.append(cls)
    if skipped:
        log.warning("%s: skipped %d files that are not images (%s)", path, skipped,
                    ", ".join(IMAGE_SUFFIXES))
    if empty:   # a class without images would leave a label that nothing carries
        raise DataError(f"{path}: class folder(s) {', '.join(map(repr, empty))} hold no "
                        f"images ({', '.join(IMAGE_SUFFIXES)}); every class folder needs at "
                        "least one")
    if len(labels) < MIN_SAMPLES:
        raise DataError(f"{path}: found {len(labels)} images in {len(classes)} class "
                        f"folders; need at least {MIN_SAMPLES}")
    chans = {im.shape[1] for im in images}
    x = torch.cat([im if im.shape[1] == max(chans) else im.repeat(1, max(chans), 1, 1)
                   for im in images])
    return split_dataset(Path(path).name, adapt(x, input_shape), np.array(labels), None, seed)


SOURCES: dict[str, Callable[[str, tuple[int, ...], int], Dataset]] = {"digits": _digits}


def load_data(ref: str, input_shape: tuple[int, ...], seed: int = 0) -> Dataset:
    """A named source (`digits`), an `.npz` file or an image folder."""
    if ref in SOURCES:
        return SOURCES[ref](ref, tuple(input_shape), seed)
    if ref.endswith(".npz"):
        return load_npz(ref, tuple(input_shape), seed)
    if os.path.isdir(ref):
        return load_image_folder(ref, tuple(input_shape), seed)
    raise DataError(f"privacy.data {ref!r}: not a known source ({', '.join(SOURCES)}), "
                    f"an existing .npz file or an image folder")


def fingerprint(ref: str) -> str:
    """Identity of the data for cache keys: a name and version, or a hash of the bytes."""
    if ref == "digits":
        import sklearn
        return f"digits-sklearn-{sklearn.__version__}"
    h = hashlib.sha256()
    p = Path(ref)
    files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
    if not files:
        raise DataError(f"privacy.data {ref!r}: not found")
    for f in files:
        h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode())
        h.update(f.read_bytes())
    return f"{p.name}-{h.hexdigest()[:16]}"
