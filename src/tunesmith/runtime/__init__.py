"""Loading a finished run and answering with it: the export formats and where they live
(`formats`), the engines that run PyTorch, ONNX or trees (`engines`), the tokenizer without
transformers (`tokenizer`), which proven backend answers (`backend`), what a parity proof says
(`parity`) and the `Predictor` every consumer uses (`predict`)."""
