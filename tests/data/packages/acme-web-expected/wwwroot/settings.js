window.acme = {
  apiUrl: "https://api.acme.example",
  environment: "Production",
  release: "1.2.0",
  unknown: "#{NotDefinedAnywhere}",
  servers: ["web-a.acme", "web-b.acme"]
};
