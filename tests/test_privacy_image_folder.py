"""Privacy data from an image folder (one subfolder per public class; PNG, JPEG, ...)."""
import json
import logging
import struct
import zlib
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from noise.data import HELDOUT_FRACTION, TEST_FRACTION  # noqa: E402
from noise.datasets import DataError, fingerprint, load_data, load_image_folder  # noqa: E402
from sim.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# the gray level of every image in a class folder, so a loaded image tells its folder
LEVELS = {"zebra": 1.0, "apple": 0.0, "mango": 0.6}     # sorted: apple 0, mango 1, zebra 2


def _save(path: Path, img: np.ndarray) -> None:
    """A gray (H, W) image in [0, 1] as an RGBA PNG with R = G = B, as matplotlib writes it."""
    plt.imsave(path, img, cmap="gray", vmin=0.0, vmax=1.0)


def _gray_png(path: Path, img: np.ndarray) -> None:
    """An 8-bit single-channel PNG (matplotlib only writes RGBA): imread gives (H, W)."""
    pix = np.round(img * 255).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pix)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    h, w = pix.shape
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)        # 8-bit, color type 0: gray
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _folder(root: Path, per_class: int = 8, size: int = 14, levels=LEVELS) -> Path:
    for cls, level in levels.items():      # created in unsorted order on purpose
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            _save(root / cls / f"{i:03d}.png", np.full((size, size), level))
    return root


def _bars(root: Path, per_class: int, seed: int = 0) -> Path:
    """A learnable two-class folder: a horizontal or a vertical bar at a random place, on noise."""
    rng = np.random.default_rng(seed)
    for label, cls in enumerate(("horizontal", "vertical")):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            img = rng.uniform(0.0, 0.2, (20, 20))
            k = rng.integers(3, 17)
            if label == 0:
                img[k - 2:k + 2, 2:18] = 1.0
            else:
                img[2:18, k - 2:k + 2] = 1.0
            _save(root / cls / f"{i:03d}.png", img)
    return root


def _all(d):
    parts = (d.train, d.heldout, d.test)
    return (torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts]),
            torch.cat([p.y_private for p in parts]))


def test_labels_follow_sorted_class_folders_and_pixels_are_resized(tmp_path):
    root = _folder(tmp_path / "imgs")
    d = load_data(str(root), (1, 28, 28), 0)
    x, y, y_priv = _all(d)
    assert len(y) == 3 * 8
    assert (d.num_classes, d.num_private_classes) == (3, 0)
    assert torch.equal(torch.bincount(y), torch.tensor([8, 8, 8]))
    assert torch.all(y_priv == 0)
    assert x.shape == (24, 1, 28, 28) and x.dtype == torch.float32     # 14x14 -> 28x28
    # each image's (constant) gray level is its folder's: apple 0, mango 0.6, zebra 1
    expected = torch.tensor([0.0, 0.6, 1.0])[y]
    torch.testing.assert_close(x.mean((1, 2, 3)), expected, atol=1 / 255, rtol=0)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_pixels_are_kept_at_the_native_size_and_range(tmp_path):
    rng = np.random.default_rng(1)
    imgs = {c: rng.integers(0, 256, (10, 28, 28)) / 255 for c in ("a", "b")}
    for c, stack in imgs.items():
        (tmp_path / c).mkdir()
        for i, img in enumerate(stack):
            _save(tmp_path / c / f"{i}.png", img)
    d = load_image_folder(str(tmp_path), (1, 28, 28), 0)
    x, y, _ = _all(d)
    # every loaded image is one of the written ones (to one 8-bit step: the colormap's
    # lookup table), in its class's folder
    written = torch.from_numpy(np.concatenate([imgs["a"], imgs["b"]])).float()
    labels = torch.tensor([0] * 10 + [1] * 10)
    for img, label in zip(x[:, 0], y):
        err = (written - img).abs().amax((1, 2))
        assert float(err.min()) <= 1 / 255 + 1e-6
        assert labels[int(err.argmin())] == label


def test_channels_are_averaged_or_replicated_and_flat_models_get_vectors(tmp_path):
    for c, rgb in (("red", (1.0, 0.0, 0.0)), ("blue", (0.0, 0.0, 1.0))):
        (tmp_path / c).mkdir()
        for i in range(10):
            plt.imsave(tmp_path / c / f"{i}.png", np.tile(np.array(rgb), (12, 12, 1)))
    color = load_data(str(tmp_path), (3, 16, 16), 0)
    x, y, _ = _all(color)
    assert x.shape == (20, 3, 16, 16)
    # blue (label 0) has only channel 2 lit, red (label 1) only channel 0
    torch.testing.assert_close(x[y == 0].mean((0, 2, 3)), torch.tensor([0.0, 0.0, 1.0]))
    torch.testing.assert_close(x[y == 1].mean((0, 2, 3)), torch.tensor([1.0, 0.0, 0.0]))
    gray = load_data(str(tmp_path), (1, 16, 16), 0)
    torch.testing.assert_close(_all(gray)[0], torch.full((20, 1, 16, 16), 1 / 3))
    flat = load_data(str(tmp_path), (100,), 0)
    assert _all(flat)[0].shape == (20, 100)        # 28x28 flattened, truncated to 100


def test_gray_and_color_pngs_of_different_sizes_mix(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for i in range(10):
        _gray_png(tmp_path / "a" / f"{i}.png", np.full((9 + i, 7), 0.2))     # (H, W) on read
        _save(tmp_path / "b" / f"{i}.png", np.full((30, 20 + i), 0.8))         # RGBA on read
    d = load_data(str(tmp_path), (3, 12, 12), 0)
    x, y, _ = _all(d)
    assert x.shape == (20, 3, 12, 12)
    expected = torch.tensor([0.2, 0.8])[y].view(-1, 1, 1, 1).expand_as(x)
    torch.testing.assert_close(x, expected, atol=1 / 255, rtol=0)


def test_splits_are_deterministic_and_add_up(tmp_path):
    root = _folder(tmp_path / "imgs", per_class=20)
    n = 60
    a, b = load_data(str(root), (1, 28, 28), 3), load_data(str(root), (1, 28, 28), 3)
    for part in ("train", "heldout", "test"):
        pa, pb = getattr(a, part), getattr(b, part)
        assert torch.equal(pa.x, pb.x) and torch.equal(pa.y, pb.y)
    n_test = round(TEST_FRACTION * n)
    n_held = round(HELDOUT_FRACTION * (n - n_test))
    assert (len(a.test), len(a.heldout), len(a.train)) == (n_test, n_held, n - n_test - n_held)
    # the splits partition the images: together they hold every class 20 times
    assert torch.equal(torch.bincount(_all(a)[1]), torch.tensor([20, 20, 20]))
    other = load_data(str(root), (1, 28, 28), 4)
    assert not torch.equal(other.test.y, a.test.y)


def test_other_files_and_hidden_entries_are_skipped(tmp_path, caplog):
    root = _folder(tmp_path / "imgs", per_class=8)
    (root / "apple" / "notes.txt").write_text("not an image")
    (root / "zebra" / "labels.csv").write_text("a,b")
    (root / "zebra" / ".hidden.png").write_text("editor backup, not read")
    (root / ".ipynb_checkpoints").mkdir()                 # not a class
    _save(root / ".ipynb_checkpoints" / "x.png", np.zeros((14, 14)))
    with caplog.at_level(logging.WARNING, logger="noise.datasets"):
        d = load_data(str(root), (1, 28, 28), 0)
    assert len(_all(d)[1]) == 24 and d.num_classes == 3
    assert "skipped 2 files that are not images" in caplog.text and str(root) in caplog.text


def test_jpeg_and_bmp_are_read_through_pillow(tmp_path):
    """Formats other than PNG come back from matplotlib as 8-bit integers: scaled to [0, 1]
    like PNG. JPEG is lossy, so the gray levels are checked to a few 8-bit steps."""
    import matplotlib.pyplot as plt

    root = tmp_path / "mixed"
    for cls, level, ext in (("dark", 0.2, "jpg"), ("light", 0.8, "bmp")):
        (root / cls).mkdir(parents=True)
        for i in range(10):
            plt.imsave(root / cls / f"{i}.{ext}", np.full((12, 12), level), cmap="gray",
                       vmin=0, vmax=1)
    x, y, _ = _all(load_data(str(root), (1, 12, 12), 0))
    assert torch.equal(torch.bincount(y), torch.tensor([10, 10]))
    expected = torch.tensor([0.2, 0.8])[y]
    torch.testing.assert_close(x.mean((1, 2, 3)), expected, atol=3 / 255, rtol=0)


def test_upper_case_png_suffix_is_read(tmp_path):
    root = _folder(tmp_path / "imgs", per_class=7)
    _save(root / "apple" / "EXTRA.PNG", np.zeros((14, 14)))
    d = load_data(str(root), (1, 28, 28), 0)
    assert torch.equal(torch.bincount(_all(d)[1]), torch.tensor([8, 7, 7]))


def _one_class(tmp_path):
    root = tmp_path / "one"
    (root / "only").mkdir(parents=True)
    for i in range(25):
        _save(root / "only" / f"{i}.png", np.zeros((8, 8)))
    return root


def _one_class_with_images(tmp_path):
    """Two class folders, but only one holds images (the other only a text file)."""
    root = _one_class(tmp_path)
    (root / "second").mkdir()
    (root / "second" / "a.txt").write_text("no image here")
    return root


def _too_few(tmp_path):
    return _folder(tmp_path / "few", per_class=3)


def _corrupt_jpeg(tmp_path):
    root = _folder(tmp_path / "badjpg", per_class=8)
    (root / "apple" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 jpeg-ish")
    return root


def _corrupt_png(tmp_path):
    root = _folder(tmp_path / "bad", per_class=8)
    (root / "mango" / "broken.png").write_text("this is not a PNG")
    return root


def _truncated_png(tmp_path):
    root = _folder(tmp_path / "cut", per_class=8)
    data = (root / "zebra" / "003.png").read_bytes()
    (root / "zebra" / "003.png").write_bytes(data[: len(data) // 2])
    return root


def _empty(tmp_path):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty"


BAD_FOLDERS = [
    (_empty, "found 0"),
    (_one_class, "found 1"),
    (_one_class_with_images, "'second'"),
    (_too_few, "found 9 images in 3 class folders; need at least 20"),
    (_corrupt_png, "broken.png: not a readable image"),
    (_truncated_png, "003.png: not a readable image"),
    (_corrupt_jpeg, "photo.jpg: not a readable image"),
]


@pytest.mark.parametrize("make, words", BAD_FOLDERS, ids=[m.__name__[1:] for m, _ in BAD_FOLDERS])
def test_bad_folder_is_a_data_error(tmp_path, make, words):
    root = make(tmp_path)
    with pytest.raises(DataError) as exc:
        load_data(str(root), (1, 28, 28), 0)
    msg = str(exc.value)
    assert str(root) in msg and words in msg, msg
    assert "\n" not in msg


def test_missing_folder_names_the_choices():
    with pytest.raises(DataError, match="not a known source.*image folder"):
        load_data("/no/such/folder", (1, 28, 28), 0)


def test_fingerprint_changes_with_an_image(tmp_path):
    root = _folder(tmp_path / "imgs")
    before = fingerprint(str(root))
    assert before.startswith("imgs-") and fingerprint(str(root)) == before
    _save(root / "mango" / "000.png", np.full((14, 14), 0.3))
    assert fingerprint(str(root)) != before


def _config(tmp_path, data: str) -> Path:
    """A copy of tx2_lenet.yaml next to the data, naming it relative to the config."""
    raw = yaml.safe_load((ROOT / "configs" / "tx2_lenet.yaml").read_text())
    raw["privacy"]["data"] = data
    raw["sim"]["requests"] = 200
    raw["report"]["plots"] = False
    path = tmp_path / "lenet_images.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("make, words", [(_one_class, "found 1"),
                                         (_corrupt_png, "broken.png: not a readable image")],
                         ids=["one_class", "corrupt_png"])
def test_bad_folder_exits_2_via_the_cli(tmp_path, capsys, make, words):
    root = make(tmp_path)
    config = _config(tmp_path, root.name)           # relative: resolved against the config
    code = main(["run", str(config), "--out", str(tmp_path / "o"),
                 "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert str(root) in err and words in err
    assert "Traceback" not in err
    assert not (tmp_path / "o" / "results.csv").exists()


def test_lenet_on_an_image_folder_end_to_end(tmp_path, capsys):
    """Noiseless LeNet on a learnable two-class folder: the columns are filled from it."""
    root = _bars(tmp_path / "bars", per_class=60)
    config = _config(tmp_path, "bars")
    code = main(["run", str(config), "--out", str(tmp_path / "o"), "--cache-dir",
                 str(tmp_path / "c"), "--set", "noise.method=none", "--set", "privacy.cuts=[8]",
                 "--set", "privacy.epochs=3"])
    capsys.readouterr()
    assert code == 0
    res = pd.read_csv(tmp_path / "o" / "results.csv").set_index("cut")
    record = json.loads((tmp_path / "o" / "run.json").read_text())
    prov = record["privacy_provenance"]
    assert prov["data_source"] == str(root) and prov["data"] == fingerprint(str(root))
    n_test = round(TEST_FRACTION * 120)
    n_held = round(HELDOUT_FRACTION * (120 - n_test))
    assert prov["splits"] == {"train": 120 - n_test - n_held, "heldout": n_held, "test": n_test}
    assert prov["private_task"] == "none (no private label)"
    assert prov["mi_samples"] == 24
    row = res.loc[8]
    assert row["accuracy"] >= 0.9                       # bars are easy; chance is 0.5
    assert row["accuracy_loss_pct"] == 0 and row["mi_loss_pct"] == 0   # no noise added
    assert np.isfinite(row["mi_bits"]) and row["mi_bits"] > 0
    # no private label: the adversary column stays empty, never zero
    assert res["private_misclass_pct"].isna().all()
    assert res.drop(index=8)[["accuracy", "mi_bits"]].isna().all().all()
    caption = (tmp_path / "o" / "energy_breakdown.md").read_text().splitlines()[0]
    assert f"{root} data ({prov['data']})" in caption
