window.acme = {
  apiUrl: "#{ApiUrl}",
  environment: "#{Octopus.Environment.Name}",
  release: "#{Octopus.Release.Number}",
  unknown: "#{NotDefinedAnywhere}",
  servers: [#{each server in ApiServers}"#{server}"#{unless Octopus.Template.Each.Last}, #{/unless}#{/each}]
};
