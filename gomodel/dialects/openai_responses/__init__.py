"""OpenAI Responses API as an ingress dialect: requests in, Responses objects and events out."""
