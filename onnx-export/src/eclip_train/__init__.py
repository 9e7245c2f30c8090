"""Training of CLIP and eCLIP variants, ONNX export, checkpoint import and evaluation."""
