#include "tiny_trace.hpp"

namespace capsim::trace::testing {
// Hand-checked counts (8-bit weights, 32-bit biases):
//   conv1 1->4, 3x3 s1 p1, 8x8: weights 4*1*9 = 36, macs 36*64 = 2304, bytes 36 + 4*4 = 52
//   conv2 4->8, 3x3 s2 p1, 4x4: weights 8*4*9 = 288, macs 288*16 = 4608, bytes 288 + 32 = 320
//   short 4->8, 1x1 s2, 4x4:    weights 32, macs 32*16 = 512, bytes 32 + 32 = 64
//   join  add 8x4x4:            ops 128
//   pool  avg 4x4 s4 -> 8x1x1:  ops 8*16 = 128
//   fc    8->3:                 weights 24, macs 24, bytes 24 + 12 = 36
const char* const kTinyTrace = R"(format: capsim-trace
version: 1
network: {model: tiny, variant: cifar, input: [1, 8, 8], classes: 3, width: 1, batch: 1}
precision: {weight_bits: 8, bias_bits: 32}
plan: none
layers:
- name: conv1
  op: conv
  inputs: [input]
  in_shape: [1, 8, 8]
  out_shape: [4, 8, 8]
  kernel: [3, 3]
  stride: [1, 1]
  padding: [1, 1]
  groups: 1
  activation: relu
  macs: 2304
  weights: 36
  biases: 4
  weight_bytes: 52
- name: conv2
  op: conv
  inputs: [conv1]
  in_shape: [4, 8, 8]
  out_shape: [8, 4, 4]
  kernel: [3, 3]
  stride: [2, 2]
  padding: [1, 1]
  groups: 1
  macs: 4608
  weights: 288
  biases: 8
  weight_bytes: 320
- name: short
  op: conv
  inputs: [conv1]
  in_shape: [4, 8, 8]
  out_shape: [8, 4, 4]
  kernel: [1, 1]
  stride: [2, 2]
  padding: [0, 0]
  groups: 1
  macs: 512
  weights: 32
  biases: 8
  weight_bytes: 64
- name: join
  op: add
  inputs: [conv2, short]
  in_shape: [8, 4, 4]
  out_shape: [8, 4, 4]
  activation: relu
  ops: 128
- name: pool
  op: pool
  inputs: [join]
  in_shape: [8, 4, 4]
  out_shape: [8, 1, 1]
  kernel: [4, 4]
  stride: [4, 4]
  padding: [0, 0]
  pool: avg
  ops: 128
- name: fc
  op: linear
  inputs: [pool]
  in_shape: [8, 1, 1]
  out_shape: [3, 1, 1]
  macs: 24
  weights: 24
  biases: 3
  weight_bytes: 36
)";
}  // namespace capsim::trace::testing
