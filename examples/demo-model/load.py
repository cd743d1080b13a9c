# How this demo model is meant to be loaded. Both calls run code from the
# model repository when the files are untrusted.
import torch as t
from transformers import AutoModelForCausalLM


def load(path: str):
    state = t.load(f"{path}/checkpoint.pt")
    model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=True)
    model.load_state_dict(state)
    return model
