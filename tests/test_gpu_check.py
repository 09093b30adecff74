"""gpu_check.sh, the one script for a lent GPU, as a dry run on CPU with tiny settings: every stage
(tests, bench, data, training, scoring) runs and writes its output and exit status to one results file."""
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_gpu_check_dry_run(tmp_path):
    env = {**os.environ, 'DRY_RUN': '1', 'PYTHON': sys.executable, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run(['bash', os.path.join(ROOT, 'gpu_check.sh')], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / 'gpu_check.txt').read_text()
    assert 'DRY RUN' in text
    for stage in ('tests', 'bench', 'data', 'train', 'score'):
        assert f"== {stage}: exit 0 " in text, f"stage {stage} failed:\n{text}"
    assert 'passed' in text  # the CUDA tests skip on CPU, the others pass
    assert 'decoding: batch-2 / batch-1 throughput' in text and 'training: tokens/s' in text
    assert '"accuracy"' in text  # sample.py's JSON line for the trained checkpoint
    if importlib.util.find_spec('transformers'):
        assert 'ours / HF throughput, batch 1, eager' in text and 'greedy ids identical' in text
