"""The Jetson TX2 preset against HW-NAS-Bench's nine published examples
(hwmodels.published): the vendored rows are the NB201 networks they name, and the comparison
prices them with the same cost model as everything else."""
import pandas as pd
import pytest

from hwmodels.netcost import LayerTable, network_costs
from hwmodels.presets import device_preset
from hwmodels.published import TX2_CSV, TX2_PRESET, tx2_examples, tx2_summary
from hwmodels.validate import DATA_CSV
from partitioner.profile import profile_model


def test_the_examples_are_the_networks_of_the_nb201_table():
    tx2, nb201 = pd.read_csv(TX2_CSV), pd.read_csv(DATA_CSV, nrows=3)
    assert len(tx2) == 9 and set(tx2["dataset"]) == {"cifar10", "cifar100", "ImageNet16-120"}
    for idx, arch in zip(tx2["arch_index"], tx2["arch"]):
        assert nb201.loc[idx, "arch"] == arch


def test_prediction_is_the_cost_model_of_the_shipped_preset():
    table = tx2_examples()
    dev = device_preset(TX2_PRESET)
    cifar10 = table[table["dataset"] == "cifar10"]
    archs = pd.read_csv(TX2_CSV).set_index(["arch_index", "dataset"])["arch"]
    for _, row in cifar10.iterrows():
        model = "nb201:" + archs[(row["arch_index"], "cifar10")]
        lat, en = network_costs(dev, LayerTable.from_layers([profile_model(model).layers]), 1)
        assert row["predicted_ms"] == pytest.approx(lat[0] * 1e3, rel=1e-9)
        assert row["predicted_mj"] == pytest.approx(en[0] * 1e3, rel=1e-9)
    assert (table["latency_ratio"] == table["predicted_ms"] / table["measured_ms"]).all()
    assert (table["energy_ratio"] == table["predicted_mj"] / table["measured_mj"]).all()
    # a 16 x 16 input does less work on the same kernels: predicted faster than at 32 x 32
    small = table[table["dataset"] == "ImageNet16-120"]["predicted_ms"].to_numpy()
    assert (small < cifar10["predicted_ms"].to_numpy()).all()
    assert tx2_summary(table).startswith("Over the 9 examples the preset predicts ")
