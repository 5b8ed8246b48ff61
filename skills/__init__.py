"""The Alexa skill: interaction model, handlers, slot reading and the verified web service."""
