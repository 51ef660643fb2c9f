"""Split a traced network at a valid cut into a local (edge) and a remote (cloud) module."""
from __future__ import annotations

from torch import fx, nn

from partitioner.graph import _layer_nodes, crossing_nodes


def split(model: nn.Module | fx.GraphModule, cut: int) -> tuple[fx.GraphModule, fx.GraphModule]:
    """Return (local, remote) with remote(local(x)) == model(x) for a valid cut.

    Both share the original module's parameters (no copies), so a frozen network stays frozen.
    """
    gm = model if isinstance(model, fx.GraphModule) else fx.symbolic_trace(model)
    crossing = crossing_nodes(gm, cut)
    if len(crossing) != 1:
        raise ValueError(f"cut {cut} is not valid: {len(crossing)} tensors cross it "
                         f"({', '.join(n.name for n in crossing)})")
    sent = crossing[0]
    layers = _layer_nodes(gm)
    placeholder = next(n for n in gm.graph.nodes if n.op == "placeholder")
    output = next(n for n in gm.graph.nodes if n.op == "output")

    local_graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {placeholder: local_graph.placeholder(placeholder.name)}
    for node in layers[:cut]:
        env[node] = local_graph.node_copy(node, lambda n: env[n])
    local_graph.output(env[sent])

    remote_graph = fx.Graph()
    renv: dict[fx.Node, fx.Node] = {sent: remote_graph.placeholder("sent")}
    for node in layers[cut:]:
        renv[node] = remote_graph.node_copy(node, lambda n: renv[n])
    remote_graph.output(fx.map_arg(output.args[0], lambda n: renv[n]))

    local = fx.GraphModule(gm, local_graph, class_name="Local")
    remote = fx.GraphModule(gm, remote_graph, class_name="Remote")
    return local, remote
