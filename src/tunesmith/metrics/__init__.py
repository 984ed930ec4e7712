"""Measuring, below every stage: statistics with intervals and calibration (`uncertainty`) and the
figures every report draws (`plots`). Tasks, the prepare report, training curves and the evaluate
stage all use these; nothing here knows a stage."""
