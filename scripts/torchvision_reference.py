#!/usr/bin/python3
"""Reference layer tables from torchvision, for capsim's model-zoo golden tests.

Prints, for torchvision 0.14's resnet18, mobilenet_v2 and vgg16 at one input shape, the CSV that
`capsim-torch inspect --variant imagenet --csv` prints: one row per Conv2d or Linear module in
execution order (found with forward hooks), then the totals on stderr. With --write DIR, writes
DIR/<model>_imagenet_<C>x<H>x<W>.csv instead (the files under tests/golden/inspect/).

With --variant cifar it builds capsim's cifar variants (width 1) from torchvision's modules
instead, as a cross-check: resnet18 with a 3x3 stride-1 conv1 and no maxpool, mobilenet_v2 with a
stride-1 features.0, vgg16_bn with a 1x1 map and a 512-512-512-classes classifier. Their rows
equal capsim's `inspect --variant cifar --csv` except VGG16's names (capsim keeps vgg16's indices).

Run with Debian's interpreter, which sees the apt-installed torch and torchvision:
    /usr/bin/python3 scripts/torchvision_reference.py --write tests/golden/inspect
"""
import argparse
import os
import sys

import torch
import torchvision

HEADER = "name,type,in_ch,out_ch,kernel,stride,groups,out_h,out_w,macs,params"
MODELS = {"resnet18": "resnet18", "mobilenetv2": "mobilenet_v2", "vgg16": "vgg16"}


def module_params(module):
    return sum(p.numel() for p in module.parameters(recurse=False))


def layer_rows(model, shape):
    """CSV rows of the Conv2d/Linear modules of `model`, in the order a forward pass runs them."""
    names = {m: n for n, m in model.named_modules()}
    rows, totals = [], {"macs": 0}

    def hook(module, inputs, output):
        name = names[module]
        if isinstance(module, torch.nn.Conv2d):
            cin, cout, groups = module.in_channels, module.out_channels, module.groups
            kind = "dwconv" if groups == cin == cout and groups > 1 else "conv"
            kh, kw = module.kernel_size
            oh, ow = output.shape[2], output.shape[3]
            macs = cout * (cin // groups) * kh * kw * oh * ow
            row = [name, kind, cin, cout, f"{kh}x{kw}", module.stride[0], groups, oh, ow, macs]
        else:
            cin, cout = module.in_features, module.out_features
            macs = cin * cout
            row = [name, "linear", cin, cout, "1x1", 1, 1, 1, 1, macs]
        totals["macs"] += macs
        rows.append(",".join(str(v) for v in row + [module_params(module)]))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return rows, totals["macs"]


def cifar_model(name, in_channels, classes=10):
    """torchvision's module with capsim's cifar-variant changes (docs/models.md)."""
    nn = torch.nn
    if name == "resnet18":
        model = torchvision.models.resnet18(num_classes=classes)
        model.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()
    elif name == "mobilenetv2":
        model = torchvision.models.mobilenet_v2(num_classes=classes)
        model.features[0][0] = nn.Conv2d(in_channels, 32, 3, 1, 1, bias=False)
    else:
        model = torchvision.models.vgg16_bn(num_classes=classes)
        model.features[0] = nn.Conv2d(in_channels, 64, 3, padding=1)
        model.avgpool = nn.Identity()
        model.classifier = nn.Sequential(nn.Linear(512, 512), nn.ReLU(True), nn.Dropout(), nn.Linear(512, 512),
                                         nn.ReLU(True), nn.Dropout(), nn.Linear(512, classes))
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), action="append",
                        help="model(s) to print (default: all)")
    parser.add_argument("--input", default="3x224x224", help="input shape CxHxW")
    parser.add_argument("--variant", choices=["imagenet", "cifar"], default="imagenet")
    parser.add_argument("--write", metavar="DIR", help="write the golden CSV files into DIR")
    args = parser.parse_args()
    shape = tuple(int(v) for v in args.input.split("x"))
    torch.manual_seed(0)
    for model_name in args.model or sorted(MODELS):
        if args.variant == "cifar":
            model = cifar_model(model_name, shape[0])
        else:
            model = getattr(torchvision.models, MODELS[model_name])(weights=None)
        rows, macs = layer_rows(model, shape)
        params = sum(p.numel() for p in model.parameters())
        text = "\n".join([HEADER] + rows) + "\n"
        if args.write:
            path = os.path.join(args.write, f"{model_name}_{args.variant}_{args.input}.csv")
            with open(path, "w") as f:
                f.write(text)
            print(f"wrote {path}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        print(f"{model_name} {args.variant}: torchvision {torchvision.__version__}, input {args.input}: "
              f"{len(rows)} conv/linear layers, {params} parameters, {macs} MACs", file=sys.stderr)


if __name__ == "__main__":
    main()
