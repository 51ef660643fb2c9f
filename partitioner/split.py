"""Split a traced network at a valid cut into a local (edge) and a remote (cloud) module."""
from __future__ import annotations

from torch import fx, nn

from partitioner.graph import crossing_nodes, sides
from partitioner.trace import fx_trace


def _copier(graph: fx.Graph, env: dict[fx.Node, fx.Node], kinds: dict[fx.Node, str]):
    """node_copy's argument map: const nodes (parameters and what is computed from them
    alone) are copied into the graph on first use, so each side recomputes its own."""
    def lookup(n: fx.Node) -> fx.Node:
        if n not in env:
            if kinds[n] != "const":
                raise ValueError(f"node {n.name} is needed on both sides of the cut")
            env[n] = graph.node_copy(n, lookup)
        return env[n]
    return lookup


def split(model: nn.Module | fx.GraphModule, cut: int) -> tuple[fx.GraphModule, fx.GraphModule]:
    """Return (local, remote) with remote(local(x)) == model(x) for a valid cut.

    Both share the original module's parameters (no copies), so a frozen network stays frozen.
    """
    gm = model if isinstance(model, fx.GraphModule) else fx_trace(model)
    crossing = crossing_nodes(gm, cut)
    if len(crossing) != 1:
        raise ValueError(f"cut {cut} is not valid: {len(crossing)} values cross it "
                         f"({', '.join(n.name for n in crossing)})")
    sent = crossing[0]
    place, kinds = sides(gm)
    placeholder = next(n for n in gm.graph.nodes if n.op == "placeholder")
    output = next(n for n in gm.graph.nodes if n.op == "output")
    body = [n for n in gm.graph.nodes if kinds[n] in ("layer", "scalar")]

    local_graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {placeholder: local_graph.placeholder(placeholder.name)}
    lookup = _copier(local_graph, env, kinds)
    for node in body:
        if place[node] <= cut:
            env[node] = local_graph.node_copy(node, lookup)
    local_graph.output(env[sent])

    remote_graph = fx.Graph()
    renv: dict[fx.Node, fx.Node] = {sent: remote_graph.placeholder("sent")}
    rlookup = _copier(remote_graph, renv, kinds)
    for node in body:
        if place[node] > cut:
            renv[node] = remote_graph.node_copy(node, rlookup)
    remote_graph.output(fx.map_arg(output.args[0], rlookup))

    local = fx.GraphModule(gm, local_graph, class_name="Local")
    remote = fx.GraphModule(gm, remote_graph, class_name="Remote")
    return local, remote
