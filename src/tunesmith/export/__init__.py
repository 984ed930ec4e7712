"""The export stage: the trained model as ONNX (fp32, int8) or TorchScript, each proven against
PyTorch on the run's own data, and the engines that run an export wherever the model answers."""
