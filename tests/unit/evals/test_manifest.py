"""Identity hashes of the bundle manifest."""

import torch

from openenv_harness.evals._manifest import weights_hash


def test_weights_hash_identifies_in_memory_weights():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    twin = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    twin.load_state_dict(model.state_dict())
    assert weights_hash(model) == weights_hash(twin)
    with torch.no_grad():
        twin[1].bias[0] += 1e-6  # one float, barely changed
    assert weights_hash(model) != weights_hash(twin)
    as_float = weights_hash(model)
    assert as_float != weights_hash(model.double())  # same values as float64: dtype is part of the identity
