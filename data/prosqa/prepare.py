"""
ProsQA (Coconut, Hao et al. 2024): is the person a A or a B, given a random DAG of made-up concepts.
One candidate is reachable from the person, the other only from a second person, so answering needs
a search over the graph, not a lookup. The CoT is a shortest path, one sentence per edge.

    python data/prosqa/prepare.py                          # generator, --preset=full (official statistics)
    python data/prosqa/prepare.py --preset=small           # 6-10 node graphs, for fast tests and CPU runs
    python data/prosqa/prepare.py --source=official        # Coconut's released files, unchanged (online)
    python data/prosqa/prepare.py --source=file --path=DIR # local prosqa_{train,valid,test}.json

Construction, as measured on the official test split: nodes 0 and 1 are two persons; each new concept
belongs to one person's side and draws Poisson(1.5) parents (zeros redrawn) from that side (rarely
from the other), preferring deeper nodes; a few extra persons point at random concepts. The target is
the deepest sink reachable from the asked person but not from the other; the distractor is the
deepest sink reachable from the other person but not from the asked one, so both candidates look alike.
"""
import argparse
import collections
import functools
import itertools
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
import reasoning

PERSONS = ['Alex', 'Bob', 'Carol', 'Davis', 'Eva', 'Fae', 'Gabriel', 'Jack', 'Max', 'Oliver', 'Polly',
           'Rex', 'Sally', 'Sam', 'Stella', 'Tom', 'Wren']  # the names the official files use
# pseudo-words in the style of the official ones (wumpus, yerpus, scrompus, ...): onset + vowel + coda
ONSETS = ['', 'b', 'br', 'ch', 'd', 'f', 'g', 'gr', 'gw', 'h', 'j', 'k', 'l', 'n', 'qu', 'r', 'scr',
          'sh', 'st', 't', 'v', 'w', 'y', 'z', 'zh']
VOWELS = ['e', 'i', 'o', 'oo', 'u']
CODAS = ['mpus', 'rpus', 'lpus']
URL = 'https://raw.githubusercontent.com/facebookresearch/coconut/main/data/prosqa_{}.json'
OFFLINE = 'Offline? Get the files by hand and run `python data/prosqa/prepare.py --source=file --path=DIR`.'

# size knobs; the full preset reproduces the official test split within ~1% (graph_stats over 5000
# generated vs the 500 official: 22.7 vs 22.8 nodes, 35.7 vs 35.8 edges, 3.83 vs 3.78 steps)
PRESETS = {
    'full': dict(min_concepts=16, max_concepts=24, min_hops=3, max_hops=6, extra_persons=0.58, n_names=40),
    'small': dict(min_concepts=4, max_concepts=7, min_hops=2, max_hops=4, extra_persons=0.3, n_names=20),
}
P_CROSS = 0.03      # chance that a parent comes from the other person's side: a few shared nodes
DEPTH_BIAS = 2.0    # parent weight = (depth + 1) ** DEPTH_BIAS: deeper parents, longer paths (1.0: 3.5 steps)


@functools.lru_cache
def concept_names(n):
    """The same n pseudo-words for every seed, so all splits (and reruns) share one vocabulary."""
    words = [o + v + c for o, v, c in itertools.product(ONSETS, VOWELS, CODAS)]
    return tuple(random.Random(0).sample(words, n))


def poisson(rng, lam):
    # Knuth: count uniform draws until their product falls below exp(-lam)
    k, p, limit = 0, rng.random(), math.exp(-lam)
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def bfs(children, src):
    """Shortest distance and BFS parent of every node reachable from src."""
    dist, prev, queue = {src: 0}, {src: None}, [src]
    for u in queue:
        for v in children[u]:
            if v not in dist:
                dist[v], prev[v] = dist[u] + 1, u
                queue.append(v)
    return dist, prev


def make_graph(rng, min_concepts, max_concepts, min_hops, max_hops):
    """A DAG (edges i -> j only for i < j) over persons 0, 1 and concepts 2.., plus the asked person,
    target and distractor; None when this draw has no valid pair of candidates (the caller redraws)."""
    n = 2 + rng.randint(min_concepts, max_concepts)
    side, depth, edges = [0, 1], [0, 0], []
    for i in range(2, n):
        s = rng.randrange(2)
        k = 0
        while k == 0:  # a concept needs a parent: redraw zeros
            k = poisson(rng, 1.5)
        parents = set()
        for _ in range(k):
            pool = [j for j in range(i) if j not in parents and (side[j] == s or rng.random() < P_CROSS)]
            if not pool:
                break
            weights = [(depth[j] + 1) ** DEPTH_BIAS for j in pool]
            parents.add(rng.choices(pool, weights)[0])
        side.append(s)
        depth.append(1 + min(depth[p] for p in parents))
        edges += [(p, i) for p in sorted(parents)]
    children = [[] for _ in range(n)]
    for u, v in edges:
        children[u].append(v)
    root = rng.randrange(2)  # which of the two persons is asked about
    dist_r, _ = bfs(children, root)
    dist_o, _ = bfs(children, 1 - root)
    sinks = [v for v in range(2, n) if not children[v]]
    cands = [v for v in sinks if v in dist_r and v not in dist_o and min_hops <= dist_r[v] <= max_hops]
    negs = [v for v in sinks if v in dist_o and v not in dist_r]
    if not cands or not negs:
        return None
    # deepest candidate on each side (random among ties): the two answers have similar depths
    target = max(cands, key=lambda v: (dist_r[v], rng.random()))
    neg = max(negs, key=lambda v: (dist_o[v], rng.random()))
    return n, edges, root, target, neg


def make_example(rng, min_concepts=16, max_concepts=24, min_hops=3, max_hops=6, extra_persons=0.58,
                 n_names=40):
    for _ in range(1000):  # a draw fails half the time (full preset) or 2 in 3 (small)
        g = make_graph(rng, min_concepts, max_concepts, min_hops, max_hops)
        if g is not None:
            break
    else:
        raise ValueError(f"no graph with {min_concepts}-{max_concepts} concepts has a {min_hops}-{max_hops} hop answer")
    n, edges, root, target, neg = g
    # extra persons pointing at a concept or two: a person in the facts is not a giveaway of the root
    n_extra = min(poisson(rng, extra_persons), len(PERSONS) - 2)
    for i in range(n, n + n_extra):
        for v in rng.sample(range(2, n), min(n - 2, 1 + (rng.random() < 0.1))):
            edges.append((i, v))
    people = rng.sample(PERSONS, 2 + n_extra)
    concepts = rng.sample(concept_names(n_names), n - 2)
    names = people[:2] + concepts + people[2:]
    persons = {0, 1} | set(range(n, n + n_extra))

    def fact(u, v):
        return f"{names[u]} is a {names[v]}." if u in persons else f"Every {names[u]} is a {names[v]}."

    children = collections.defaultdict(list)
    for u, v in edges:
        children[u].append(v)
    _, prev = bfs(children, root)
    path = [target]
    while prev[path[-1]] is not None:
        path.append(prev[path[-1]])
    path.reverse()
    facts = [fact(u, v) for u, v in edges]
    rng.shuffle(facts)
    a, b = rng.sample([names[target], names[neg]], 2)
    return {
        'question': ' '.join(facts) + f" Is {names[root]} a {a} or {b}?",
        'steps': [fact(u, v) for u, v in zip(path, path[1:])],
        'answer': f"{names[root]} is a {names[target]}.",
        # the official files carry the graph too; kept so generated and official files look alike
        'idx_to_symbol': names, 'edges': [list(e) for e in edges],
        'root': root, 'target': target, 'neg_target': neg,
    }


# -----------------------------------------------------------------------------
# reading the facts back: checks and statistics that work on official and generated files alike

def parse_question(question):
    """-> (edges as a set of (name, name), person, [option A, option B])"""
    facts, _, query = question.rpartition(' Is ')
    person, _, options = query.rstrip('?').partition(' a ')
    edges = set()
    for sent in facts.split('.'):
        words = sent.split()
        if not words:
            continue
        if words[0] == 'Every':  # "Every X is a Y"
            edges.add((words[1], words[4]))
        else:                    # "Tom is a X"
            edges.add((words[0], words[3]))
    return edges, person, options.split(' or ')


def parse_step(step):
    words = step.rstrip('.').split()
    return (words[1], words[4]) if words[0] == 'Every' else (words[0], words[3])


def distances(edges, src):
    children = collections.defaultdict(list)
    for u, v in edges:
        children[u].append(v)
    return bfs(children, src)[0]


def graph_stats(examples):
    """Means over examples of: nodes, edges, shortest-path length from the person to the answer,
    number of steps, question words; parsed from the text only."""
    rows = []
    for ex in examples:
        edges, person, _ = parse_question(ex['question'])
        answer = ex['answer'].rstrip('.').split()[-1]
        nodes = {x for e in edges for x in e}
        rows.append((len(nodes), len(edges), distances(edges, person)[answer], len(ex['steps']),
                     len(ex['question'].split())))
    keys = ['nodes', 'edges', 'hops', 'steps', 'question_words']
    return {k: sum(r[i] for r in rows) / len(rows) for i, k in enumerate(keys)}


# -----------------------------------------------------------------------------

def read_local(path):
    """{split: examples} from DIR/prosqa_<split>.json or DIR/<split>.json (whichever exist)."""
    splits = {}
    for split in ['train', 'valid', 'test']:
        for name in [f'prosqa_{split}.json', f'{split}.json']:
            if os.path.exists(os.path.join(path, name)):
                splits[split] = reasoning.load_split(path, os.path.join(path, name))
                break
    if not splits:
        raise SystemExit(f"no prosqa_{{train,valid,test}}.json in {path}")
    return splits


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--source', default='generate', choices=['generate', 'official', 'file'])
    p.add_argument('--path', default=None, help='folder of prosqa_<split>.json for --source=file')
    p.add_argument('--preset', default='full', choices=sorted(PRESETS), help='size knobs below override it')
    for k in PRESETS['full']:  # None: take the preset's value
        p.add_argument(f'--{k}', type=type(PRESETS['full'][k]), default=None)
    p.add_argument('--train', type=int, default=17886)  # the official split sizes
    p.add_argument('--valid', type=int, default=300)
    p.add_argument('--test', type=int, default=500)
    p.add_argument('--seed', type=int, default=1337)
    p.add_argument('--tokenizer', default='gpt2', choices=['gpt2', 'word'])
    p.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = p.parse_args()

    if args.source == 'official':
        splits = {s: json.loads(reasoning.fetch(URL.format(s), OFFLINE)) for s in ['train', 'valid', 'test']}
    elif args.source == 'file':
        assert args.path, '--source=file needs --path=DIR'
        splits = read_local(args.path)
    else:
        knobs = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in PRESETS[args.preset].items()}
        assert knobs['n_names'] >= knobs['max_concepts'], 'need a name for every concept of a graph'
        print(f"generating preset {args.preset}: {knobs}, seed {args.seed}")
        rng = random.Random(args.seed)
        make = lambda: make_example(rng, **knobs)
        splits = reasoning.generate_splits(make, args.test, args.valid, args.train, unique_train=True)
    for name, exs in splits.items():
        if exs:
            print(f"{name}: {len(exs):,} examples, " + ', '.join(f"{k} {v:.2f}" for k, v in graph_stats(exs).items()))
    print(f"tokenizer {args.tokenizer}, writing to {args.out_dir}")
    reasoning.save_splits(args.out_dir, splits, args.tokenizer)
