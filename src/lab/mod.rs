//! The lab model and the markdown lab-file parser: chapters, steps, code blocks, tasks.
