"""The learners beside the fine-tuned transformer: what they read (features.py: n-grams, pair
similarities, a record's fields as columns), what they fit (linear.py, boosted.py), one learner as
a whole (member.py), and the model a bundle answers with - one learner or their weighted ensemble
(ensemble.py). Fitting and the choice are the train stage's (train/learners.py, train/choose.py);
this package is what a loaded run needs to answer, in numpy and onnxruntime where it can."""
