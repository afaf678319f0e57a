"""`python -m organomics.demo` command line: sizes and a subset of layers."""

from __future__ import annotations

import pytest
import yaml

from organomics.demo.__main__ import main


def test_layers_writes_only_the_chosen_layers(tmp_path):
    out = tmp_path / "cohort"
    main([str(out), "--patients", "8", "--pairs", "3", "--sc-pairs", "1", "--layers", "clinical"])
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert set(config) == {"samples", "sites", "clinical"}
    assert config["samples"] is None  # clinical alone needs no sample sheet
    assert sorted(p.name for p in out.iterdir()) == ["clinical", "config.yaml"]


def test_unknown_layer_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--layers", "proteomics"])
    assert "invalid choice: 'proteomics'" in capsys.readouterr().err
