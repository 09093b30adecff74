"""
nanoGPT-style configuration: `python train.py config/x.py --batch_size=32 --compile=False`.
A config file is plain Python that assigns config variables; `--key=value` overrides one variable.
Unlike nanoGPT this is a function, and it refuses unknown keys and values of the wrong type, naming
the key: a typo in a flag silently ignored costs a whole training run. check() then refuses values out
of range: each script keeps a table of what each key allows beside its config (CHECKS).
"""
import ast
import math


def configure(config, argv):
    """config: dict of the defaults (usually globals() of the script), updated in place.
    argv: the command line after the script name. Returns the dict of what was overridden."""
    changed = {}
    for arg in argv:
        if not arg.startswith('--'):
            print(f"config file {arg}:")
            with open(arg) as f:
                src = f.read()
            scope = {}
            exec(src, scope)
            for key, val in scope.items():
                if not key.startswith('_') and not callable(val) and not isinstance(val, type(ast)):
                    changed[key] = set_key(config, key, val)
        else:
            key, sep, val = arg[2:].partition('=')
            if not sep:
                raise ValueError(f"argument {arg!r} must look like --key=value")
            try:
                parsed = ast.literal_eval(val)  # numbers, booleans, lists, quoted strings ...
            except (SyntaxError, ValueError):
                parsed = val  # ... or a bare string
            # a text key takes the text as typed: --start=7 is the question "7", not the number 7
            val = val if isinstance(config.get(key), str) and not isinstance(parsed, str) else parsed
            changed[key] = set_key(config, key, val)
    for key, val in changed.items():
        print(f"  {key} = {val!r}")
    return changed


def set_key(config, key, val):
    if key not in config:
        raise KeyError(f"unknown config key {key!r}")
    old = config[key]
    if old is not None and val is not None:
        if isinstance(old, float) and isinstance(val, int) and not isinstance(val, bool):
            val = float(val)  # --learning_rate=1 means 1.0
        if type(val) is not type(old):
            raise TypeError(f"config key {key!r} expects {type(old).__name__}, got {val!r} ({type(val).__name__})")
    config[key] = val
    return val


# -----------------------------------------------------------------------------
# ranges: a script's CHECKS maps each of its keys to (test, what is allowed), and check() runs them all
# once, before any work, so a bad value stops the run in a second with one line naming the key, the
# value and what is allowed (as HF's GenerationConfig refuses a negative temperature), not an hour
# later inside the loop, or never (a silently odd result, a hang).

def check(config, checks):
    for key, (ok, allowed) in checks.items():
        val = config[key]
        if (isinstance(val, float) and not math.isfinite(val)) or not ok(val):  # inf: --x=1e999
            raise ValueError(f"{key}={val!r} is not allowed: {key} must be {allowed}")


def one_of(*values):
    return (lambda v: v in values), 'one of ' + ', '.join(map(repr, values))


def at_least(lo):
    return (lambda v: v >= lo), f'>= {lo}'


def above(lo):
    return (lambda v: v > lo), f'> {lo}'


def between(lo, hi):
    return (lambda v: lo <= v <= hi), f'in [{lo}, {hi}]'


ANY = (lambda v: True), 'anything'  # a key whose every value is fine (a path, a free text): listed to show it was considered
