// Helpers for F# step scripts: Octopus Calamari's Octopus module, with its functions' names
// and output. The fsharp language writes this file, followed by a call to load, and #loads
// it before the step's script; dotnet fsi runs them in turn.
module Octopus

open System
open System.Collections.Generic
open System.Globalization
open System.IO
open System.Text

// Names are matched exactly, as in Calamari.
let private variables = Dictionary<string, string>(StringComparer.Ordinal)

let private decode (field: string) =
    Encoding.Unicode.GetString(Convert.FromBase64String field)

let private encode (value: string) =
    Convert.ToBase64String(Encoding.UTF8.GetBytes(if isNull value then "" else value))

let private writeServiceMessage name (attributes: string) =
    Console.WriteLine("##octopus[" + name + " " + attributes + "]")

let private writeInMode mode (message: string) =
    Console.WriteLine("##octopus[stdout-" + mode + "]")
    Console.WriteLine message
    Console.WriteLine "##octopus[stdout-default]"

let tryFindVariable (name: string) =
    match variables.TryGetValue name with
    | true, value -> Some value
    | _ -> None

let findVariable name =
    match tryFindVariable name with
    | Some value -> value
    | None -> raise (KeyNotFoundException(name + " variable has not been found."))

let findVariableOrDefault defaultValue name =
    match tryFindVariable name with
    | Some value -> value
    | None -> defaultValue

let setVariable name value =
    writeServiceMessage "setVariable" (sprintf "name='%s' value='%s'" (encode name) (encode value))

let setSensitiveVariable name value =
    writeServiceMessage
        "setVariable"
        (sprintf "name='%s' value='%s' sensitive='%s'" (encode name) (encode value) (encode "True"))

let writeVerbose (message: string) = writeInMode "verbose" message

let writeHighlight (message: string) = writeInMode "highlight" message

let writeWait (message: string) = writeInMode "wait" message

let writeWarning (message: string) = writeInMode "warning" message

let createArtifact (path: string) (fileName: string option) =
    let fullPath = Path.GetFullPath path
    let name = defaultArg fileName (Path.GetFileName fullPath)
    let length = if File.Exists fullPath then FileInfo(fullPath).Length else 0L
    writeVerbose (sprintf "Artifact %s will be collected from %s after this step completes" name fullPath)
    writeServiceMessage
        "createArtifact"
        (sprintf
            "path='%s' name='%s' length='%s'"
            (encode fullPath)
            (encode name)
            (encode (length.ToString(CultureInfo.InvariantCulture))))

let updateProgress (percentage: int) (message: string) =
    let percent = percentage.ToString(CultureInfo.InvariantCulture)
    writeServiceMessage "progress" (sprintf "percentage='%s' message='%s'" (encode percent) (encode message))

let failStep (message: string) =
    if not (isNull message) then
        writeServiceMessage "resultMessage" (sprintf "message='%s'" (encode message))
    // -1 is 255 to the shell, as in Calamari.
    Environment.Exit(-1)

// Reads the values file (steptemplates/execution/languages/base.py describes it) and
// deletes it at once; the script's parameters follow its path in fsi.CommandLineArgs.
let private load (valuesFile: string) (script: string) =
    let lines = File.ReadAllLines(valuesFile, Encoding.ASCII)
    File.Delete valuesFile
    let arguments = ResizeArray [ script ]
    for line in lines do
        let fields = line.Split ' '
        match fields.[0] with
        | "variable" -> variables.[decode fields.[1]] <- decode fields.[2]
        | "parameter" -> arguments.Add(decode fields.[1])
        | _ -> ()
    fsi.CommandLineArgs <- arguments.ToArray()
