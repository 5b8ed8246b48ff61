"""Audio in, speech out: decoding, speech-to-text engines, text-to-speech, one voice turn."""
