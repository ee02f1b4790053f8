"""Scores ground-truth frames with the official MVoT evaluator, run unchanged.

Used by gen_official_eval.sh. The official evaluator (utils/evaluator.py) and maze loader
(utils/processed_data_wrapper/interleaved_maze.py) are imported from the reference folder as
they are; the HF `evaluate` and `datasets` packages they import are replaced by the small stubs
below, which give the loader what it touches and nothing more. Each label frame stands in for
the model's sketch: a 1x3x512x512 tensor of 0..255 values, the frame resized to 512 first when
it has another size (the official frames are 640x480).

usage: official_eval.py REF maze DATA_DIR         (an export-mvot folder or the official samples,
                                                   through the official loader)
       official_eval.py REF maze-archive DIR      (maze records and frames of an extracted gen
                                                   archive, as the loader would pair them)
       official_eval.py REF minibehavior DIR      (the same for minibehavior, which has no
                                                   official loader)
Prints one JSON line with the evaluator's visualization scores and the example count.
"""
import json
import os
import sys
import types


def install_stubs():
    ds = types.ModuleType("datasets")

    class BuilderConfig:
        def __init__(self, name=None, version=None, description=None, **kw):
            self.name, self.version, self.description = name, version, description

    class GeneratorBasedBuilder:
        pass

    class Split(str):
        TRAIN, VALIDATION, TEST = "train", "validation", "test"

    class SplitGenerator:
        def __init__(self, name, gen_kwargs):
            self.name, self.gen_kwargs = name, gen_kwargs

    def anything(*a, **k):
        return (a, k)

    for name, value in dict(BuilderConfig=BuilderConfig, GeneratorBasedBuilder=GeneratorBasedBuilder,
                            Split=Split, SplitGenerator=SplitGenerator, Features=anything,
                            Value=anything, Sequence=anything, Image=anything,
                            DatasetInfo=anything, Version=anything).items():
        setattr(ds, name, value)
    ev = types.ModuleType("evaluate")

    def load(*a, **k):
        raise RuntimeError("evaluate.load is not available in this test")

    ev.load = load
    sys.modules["datasets"] = ds
    sys.modules["evaluate"] = ev


def sketch_of(path):
    import numpy as np
    import torch
    from PIL import Image
    im = Image.open(path).convert("RGB")
    if im.size != (512, 512):
        im = im.resize((512, 512))
    a = np.asarray(im).astype("float32").transpose(2, 0, 1)[None]
    return torch.from_numpy(a.copy())


def maze_examples(ref, data_dir):
    sys.path.insert(0, os.path.join(ref, "mvot-official", "utils", "processed_data_wrapper"))
    import interleaved_maze as im
    builder = im.Maze()
    builder.config = im.MazeConfig(tasks=["simulation"],
                                   modes=["single_step_visualization", "action_reasoning"],
                                   data_dir=data_dir, name="processed_maze")
    split = [g for g in builder._split_generators(None) if g.name == "test"][0]
    gold, sketches = [], []
    for _, item in builder._generate_examples(**split.gen_kwargs):
        if item["train_task"] != "single_step_visualization":
            continue
        gold.append(item)
        sketches.append(sketch_of(item["label_img_paths"][0]))
    return gold, sketches


def archive_examples(folder, task):
    """Single-step examples from our records: label frame k of an episode with the positions
    of frames 0..k, as the official maze loader pairs them (coords = path_locs[:k + 1])."""
    gold, sketches = [], []
    for name in sorted(os.listdir(folder)):
        if not (name.startswith(task + "-") and name.endswith(".json")):
            continue
        rec = json.load(open(os.path.join(folder, name)))
        for k in range(1, rec["n_frames"]):
            coords = [list(p) for p in rec["states"][:k + 1]]
            if task == "minibehavior":
                # mini_behavior positions are (x, y) = (col, row); the evaluator reverses them
                coords = [[c, r] for r, c in coords]
            gold.append({"task": task + "_simulation", "label_text": "<image>",
                         "train_task": "single_step_visualization", "coords": coords,
                         "maze_size": rec["grid"]})
            sketches.append(sketch_of(os.path.join(folder, rec["frames"][k])))
    return gold, sketches


def main():
    ref, task, data = sys.argv[1:4]
    install_stubs()
    if task == "maze":
        gold, sketches = maze_examples(ref, data)
    else:
        gold, sketches = archive_examples(data, task.replace("-archive", ""))
    sys.path.insert(0, os.path.join(ref, "mvot-official", "utils"))
    from evaluator import VisualizationEvaluator
    res = VisualizationEvaluator().evaluate([g["label_text"] for g in gold], gold, sketches,
                                            "test", True)
    out = {k: round(float(v), 6) for k, v in res.items() if k.startswith("simulation_visualization")}
    out["examples"] = len(gold)
    print(json.dumps(out, sort_keys=True))


main()
