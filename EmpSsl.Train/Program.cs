// STUB: the command line arrives with the training issue.
System.Console.Error.WriteLine("EmpSsl.Train: training is not built yet");
return 2;
