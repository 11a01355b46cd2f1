//! Agreement straight from a REFI-QDA file.
