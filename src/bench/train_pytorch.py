# `bench train`'s PyTorch twin: the same network, loss and optimizer step as the compiled side, on
# this CPU, from the same weights and fixed views (written by train.ts into the folder named by
# argv[1]: manifest.json, weights.bin, views.bin). Prints one JSON line: first_loss, median_ms.
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

folder = sys.argv[1]
with open(os.path.join(folder, 'manifest.json')) as f:
    m = json.load(f)
weights = np.fromfile(os.path.join(folder, 'weights.bin'), dtype=np.float32)
views = torch.from_numpy(np.fromfile(os.path.join(folder, 'views.bin'), dtype=np.float32).copy())
views = views.reshape(2 * m['batch'], m['channels'], m['size'], m['size'])


def encoder_layer(layer, channels):
    """One spec layer as a torch module and the channels after it."""
    kind = layer['type']
    if kind == 'conv':
        conv = nn.Conv2d(channels, layer['out'], layer['kernel'], layer['stride'], layer['padding'], bias=layer['bias'])
        return conv, layer['out']
    if kind == 'batchnorm':
        return nn.BatchNorm2d(channels, eps=layer['eps'], momentum=layer['momentum']), channels
    if kind == 'relu':
        return nn.ReLU(), channels
    if kind == 'maxpool':
        return nn.MaxPool2d(layer['kernel'], layer['stride'], layer['padding']), channels
    raise SystemExit(f'a {kind} layer has no PyTorch twin in this bench')


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        channels = m['channels']
        mods = []
        for layer in m['layers']:
            mod, channels = encoder_layer(layer, channels)
            mods.append(mod)
        self.encoder = nn.Module()
        self.encoder.layers = nn.Sequential(*mods)
        width, head = 2 * channels, []
        p = m['projector']
        for _ in range(p['layers'] - 1):
            head += [nn.Linear(width, p['hidden'], bias=False), nn.BatchNorm1d(p['hidden'], eps=1e-5, momentum=0.1), nn.ReLU()]
            width = p['hidden']
        head.append(nn.Linear(width, p['out']))
        self.projector = nn.Sequential(*head)

    def forward(self, x):
        x = self.encoder.layers(x)
        features = torch.cat([x.mean((2, 3)), x.amax((2, 3))], 1)  # cat_avg_max, average first
        return self.projector(features)


net = Net()
given = {entry['name']: entry for entry in m['params']}
for name, param in net.named_parameters():
    if name not in given:
        raise SystemExit(f'no compiled parameter {name} for the PyTorch model')
    entry = given[name]
    value = torch.from_numpy(weights[entry['offset']:entry['offset'] + entry['length']].copy())
    with torch.no_grad():
        param.copy_(value.reshape(param.shape))

n2 = 2 * m['batch']
positive = (torch.arange(n2) + m['batch']) % n2
diagonal = torch.eye(n2, dtype=torch.bool)
opt = torch.optim.AdamW(net.parameters(), lr=m['lr'], betas=tuple(m['betas']), eps=m['eps'], weight_decay=m['weight_decay'])


def step():
    u = F.normalize(net(views), dim=1, eps=1e-12)
    logits = (u @ u.T / m['temperature']).masked_fill(diagonal, float('-inf'))
    loss = F.cross_entropy(logits, positive)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


torch.set_num_threads(os.cpu_count() or 1)  # every core, as lavapipe uses them
first = step()
step()  # warm-up, as the other rows
times = []
for _ in range(m['repeats']):
    start = time.perf_counter()
    step()
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps({'first_loss': first, 'median_ms': statistics.median(times), 'threads': torch.get_num_threads()}))
