"""
nanoGPT-style configuration: `python train.py config/x.py --batch_size=32 --compile=False`.
A config file is plain Python that assigns config variables; `--key=value` overrides one variable.
Unlike nanoGPT this is a function, and it refuses unknown keys and values of the wrong type, naming
the key: a typo in a flag silently ignored costs a whole training run.
"""
import ast


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
                val = ast.literal_eval(val)  # numbers, booleans, lists ...
            except (SyntaxError, ValueError):
                pass  # ... or a bare string
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
